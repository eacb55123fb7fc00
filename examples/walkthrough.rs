//! The soft-delete story in-process, on a scratch SQLite database, through the same route table
//! `usergroups serve` uses: create a group with `extraFields`, put a user in it, see the delete
//! refused, move the user out, delete the group, and see it gone.
//!
//! Run with `cargo run --example walkthrough`.

use actix_web::{test, App};
use serde_json::{json, Value};
use usergroups::auth::signer;
use usergroups::auth::PermissionSet;
use usergroups::db::{self, PoolOptions};
use usergroups::models::{AccessKey, Organization};
use usergroups::secrets::Keyring;
use usergroups::{configure, AppState, Limits};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!(
        "usergroups-walkthrough-{}.db",
        uuid::Uuid::new_v4()
    ));
    let url = format!("sqlite://{}", path.display()).parse()?;
    let pool = db::init(&url, PoolOptions::for_url(&url))?;
    let master_keys = Keyring::ephemeral()?;
    let credentials = {
        let mut conn = pool.get()?;
        let org = Organization::create(&mut conn, "Walkthrough")?;
        let (_, credentials) =
            AccessKey::create(&mut conn, &master_keys, &org.id, PermissionSet::all())?;
        credentials
    };
    let state = AppState {
        pool,
        limits: Limits::default(),
        master_keys,
        key_cache: Default::default(),
    };
    let app = test::init_service(App::new().configure(|cfg| configure(cfg, state.clone()))).await;

    let call = |method: &'static str, target: String, body: Option<Value>| {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let nonce = vec![(
            "x-onlive-site-nonce".to_owned(),
            uuid::Uuid::new_v4().to_string(),
        )];
        let signed = signer::sign(
            &credentials,
            method,
            "localhost",
            &target,
            &nonce,
            body.as_bytes(),
            chrono::Utc::now(),
        );
        let mut request = test::TestRequest::default()
            .method(method.parse().expect("a method"))
            .uri(&target)
            .set_payload(body);
        for header in signed.headers {
            request = request.insert_header(header);
        }
        request
            .insert_header(("content-type", "application/json"))
            .to_request()
    };

    let step = |title: &str, response: Value| {
        println!("{title}\n  {response}\n");
        response
    };
    let group = step(
        "1. create a group with extraFields",
        test::call_and_read_body_json(
            &app,
            call(
                "POST",
                "/api/v1/user-groups".into(),
                Some(json!({"name": "Global Sales Team", "extraFields": {"department": "Sales"}})),
            ),
        )
        .await,
    );
    let group_target = format!(
        "/api/v1/user-groups/{}",
        group["id"].as_str().unwrap_or_default()
    );
    let user = step(
        "2. create a user in it",
        test::call_and_read_body_json(&app, call("POST", "/api/v1/users".into(), Some(json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "userGroupId": group["id"]})))).await,
    );
    step(
        "3. deleting the group is refused while it has a member",
        test::call_and_read_body_json(&app, call("DELETE", group_target.clone(), None)).await,
    );
    step(
        "4. move the user out of the group",
        test::call_and_read_body_json(
            &app,
            call(
                "PUT",
                format!("/api/v1/users/{}", user["id"].as_str().unwrap_or_default()),
                Some(json!({"userGroupId": null})),
            ),
        )
        .await,
    );
    step(
        "5. delete the group: the final group, with deletedAt",
        test::call_and_read_body_json(&app, call("DELETE", group_target.clone(), None)).await,
    );
    step(
        "6. the group is gone",
        test::call_and_read_body_json(&app, call("GET", group_target, None)).await,
    );

    drop(app);
    drop(state);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
