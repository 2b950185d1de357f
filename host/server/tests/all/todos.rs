//! The to-do API: create, mark done, delete, bad input, and the store's cap.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use boundary_server::store::SEED;
use boundary_server::{MemoryStore, StoreError, Todo, TodoCap, TodoStore};

use crate::support::{app, app_with_store, create, dist, get, post_json, send, todos};

#[tokio::test]
async fn todo_happy_path() {
    let dist = dist();
    let app = app(dist.path()).await;

    let seeded = todos(&app).await;
    assert!(!seeded.is_empty());
    let statuses: Vec<Value> = seeded
        .iter()
        .map(|t| serde_json::to_value(t.status).expect("status"))
        .collect();
    assert!(statuses.contains(&json!("PENDING")) && statuses.contains(&json!("DONE")));

    // Create: trimmed, pending, a fresh id, listed last.
    let reply = post_json(&app, "/api/todos", r#"{"title":"  Grüße 🦀  "}"#).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let created: Todo = serde_json::from_slice(&reply.body).expect("an item");
    assert_eq!(created.title, "Grüße 🦀");
    assert_eq!(
        serde_json::to_value(created.status).expect("status"),
        json!("PENDING")
    );
    assert!(seeded.iter().all(|t| t.id != created.id));
    let after_create = todos(&app).await;
    assert_eq!(after_create.len(), seeded.len() + 1);
    assert_eq!(after_create.last(), Some(&created));

    // Mark done: the reply and the list agree.
    let reply = send(
        &app,
        Method::POST,
        &format!("/api/todos/{}/done", created.id),
        None,
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "DONE");
    let done = todos(&app)
        .await
        .into_iter()
        .find(|t| t.id == created.id)
        .expect("still there");
    assert_eq!(
        serde_json::to_value(done.status).expect("status"),
        json!("DONE")
    );

    // Delete: gone, and a second delete is a 404.
    let uri = format!("/api/todos/{}", created.id);
    let reply = send(&app, Method::DELETE, &uri, None, false).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(todos(&app).await, seeded);
    let reply = send(&app, Method::DELETE, &uri, None, false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().contains(&created.id.to_string()));
}

#[tokio::test]
async fn bad_todo_input_is_a_400_with_a_message() {
    let dist = dist();
    let app = app(dist.path()).await;
    let before = todos(&app).await;
    let long = format!(
        r#"{{"title":"{}"}}"#,
        "é".repeat(boundary_server::MAX_TITLE_CHARS + 1)
    );
    let cases: [(&str, &str); 8] = [
        ("not JSON", "{title:"),
        ("a JSON string", r#""a title""#),
        ("a missing title", "{}"),
        ("a title of the wrong type", r#"{"title":42}"#),
        ("an unknown field", r#"{"title":"a","done":true}"#),
        ("an empty title", r#"{"title":""}"#),
        ("a blank title", r#"{"title":"  \t "}"#),
        ("a title over the limit", &long),
    ];
    for (what, body) in cases {
        let reply = post_json(&app, "/api/todos", body.to_owned()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}");
        reply.error();
    }
    // Not declared as JSON.
    let reply = send(
        &app,
        Method::POST,
        "/api/todos",
        Some(r#"{"title":"a"}"#.into()),
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("Content-Type"), "{}", reply.error());
    // Ids that are not numbers.
    for uri in [
        "/api/todos/abc/done",
        "/api/todos/-1/done",
        "/api/todos/1.5/done",
    ] {
        let reply = send(&app, Method::POST, uri, None, false).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        reply.error();
    }
    let reply = send(
        &app,
        Method::DELETE,
        "/api/todos/99999999999999999999999",
        None,
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // Nothing was created or changed.
    assert_eq!(todos(&app).await, before);
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404s() {
    let dist = dist();
    let app = app(dist.path()).await;
    let reply = send(&app, Method::POST, "/api/todos/424242/done", None, false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().contains("424242"));
    let reply = send(&app, Method::DELETE, "/api/todos/424242", None, false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = get(&app, "/api/nothing-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    reply.error();
}

/// Room for the seeded items and `extra` more, and plenty of bytes.
fn items_cap(extra: usize) -> TodoCap {
    TodoCap {
        max_items: SEED.len() + extra,
        max_bytes: 1 << 20,
    }
}

/// Filled to `--max-todos`, the next create is a 507 naming the cap and its flag; nothing stored
/// changes, and a delete makes room for exactly one more.
#[tokio::test]
async fn past_the_item_cap_a_create_is_a_507_and_nothing_is_lost() {
    let dist = dist();
    let (app, _state) = app_with_store(dist.path(), MemoryStore::seeded(items_cap(2))).await;
    for title in ["four", "five"] {
        assert_eq!(
            create(&app, title).await.status,
            StatusCode::CREATED,
            "{title}"
        );
    }
    let full = todos(&app).await;
    assert_eq!(full.len(), 5);

    let reply = create(&app, "six").await;
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    let message = reply.error();
    assert!(
        message.contains("full")
            && message.contains("holds 5 items")
            && message.contains("cap is 5 items / 1048576 bytes")
            && message.ends_with("(--max-todos)"),
        "{message}"
    );
    assert_eq!(todos(&app).await, full, "a refused create changes nothing");
    // Marking done is not a create: it still works at the cap.
    let reply = send(
        &app,
        Method::POST,
        &format!("/api/todos/{}/done", full[4].id),
        None,
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    let uri = format!("/api/todos/{}", full[0].id);
    assert_eq!(
        send(&app, Method::DELETE, &uri, None, false).await.status,
        StatusCode::NO_CONTENT
    );
    let reply = create(&app, "six").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let six: Todo = serde_json::from_slice(&reply.body).expect("an item");
    assert!(full.iter().all(|t| t.id < six.id), "ids are not reused");
    assert_eq!(
        create(&app, "seven").await.status,
        StatusCode::INSUFFICIENT_STORAGE
    );
    assert_eq!(todos(&app).await.len(), 5);
}

/// The titles' bytes are capped too (`--max-todo-bytes`), counted in UTF-8.
#[tokio::test]
async fn past_the_byte_cap_a_create_is_a_507_naming_its_flag() {
    let dist = dist();
    let seeded: usize = SEED.iter().map(|(title, _)| title.len()).sum();
    let cap = TodoCap {
        max_items: 100,
        // Room for one more title of 8 bytes.
        max_bytes: (seeded + 8) as u64,
    };
    let (app, _state) = app_with_store(dist.path(), MemoryStore::seeded(cap)).await;
    let before = todos(&app).await;
    // Five characters, nine bytes: one too many.
    let reply = create(&app, &("é".repeat(4) + "x")).await;
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    let message = reply.error();
    assert!(
        message.contains(&format!("hold {seeded} bytes"))
            && message.contains("this one has 9 more")
            && message.ends_with("(--max-todo-bytes)"),
        "{message}"
    );
    assert_eq!(todos(&app).await, before);
    // Exactly at the cap fits; then not one byte more.
    let reply = create(&app, &"é".repeat(4)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let reply = create(&app, "x").await;
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    // Deleting frees its bytes.
    let uri = format!("/api/todos/{}", before[0].id);
    assert_eq!(
        send(&app, Method::DELETE, &uri, None, false).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(create(&app, "x").await.status, StatusCode::CREATED);
}

/// Many clients racing for the last places: exactly as many get a 201 as there is room for,
/// the rest a 507, and the list holds each created item once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creates_racing_for_the_last_places_never_pass_the_cap() {
    let dist = dist();
    let (app, _state) = app_with_store(dist.path(), MemoryStore::seeded(items_cap(10))).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let app = app.clone();
        tasks.spawn(async move { create(&app, &format!("racer {i}")).await });
    }
    let mut created = Vec::new();
    let mut refused = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.expect("a request task");
        match reply.status {
            StatusCode::CREATED => {
                created.push(serde_json::from_slice::<Todo>(&reply.body).expect("an item"));
            }
            StatusCode::INSUFFICIENT_STORAGE => refused += 1,
            other => panic!("{other}: {}", String::from_utf8_lossy(&reply.body)),
        }
    }
    assert_eq!((created.len(), refused), (10, 22));
    let list = todos(&app).await;
    assert_eq!(list.len(), SEED.len() + 10);
    for todo in &created {
        assert_eq!(
            list.iter().filter(|t| t.id == todo.id).count(),
            1,
            "{todo:?}"
        );
        assert!(list.contains(todo), "{todo:?}");
    }
}

/// A store that fails answers 500 with its cause on one line, for every route.
#[tokio::test]
async fn a_failing_store_is_a_500_with_its_cause() {
    #[derive(Debug)]
    struct Broken;
    impl TodoStore for Broken {
        fn list(&self) -> Result<Vec<Todo>, StoreError> {
            Err(broken())
        }
        fn create(&self, _: &str) -> Result<Todo, StoreError> {
            Err(broken())
        }
        fn mark_done(&self, _: u64) -> Result<Todo, StoreError> {
            Err(broken())
        }
        fn delete(&self, _: u64) -> Result<(), StoreError> {
            Err(broken())
        }
        fn cap(&self) -> TodoCap {
            TodoCap::default()
        }
    }
    fn broken() -> StoreError {
        StoreError::Backend(std::io::Error::other("disk on fire").into())
    }
    let dist = dist();
    let (app, _state) = app_with_store(dist.path(), Broken).await;
    for reply in [
        get(&app, "/api/todos").await,
        create(&app, "a").await,
        send(&app, Method::POST, "/api/todos/1/done", None, false).await,
        send(&app, Method::DELETE, "/api/todos/1", None, false).await,
    ] {
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(reply.error(), "the to-do store failed: disk on fire");
    }
}
