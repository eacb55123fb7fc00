//! `GET /api/v1/user-groups`: paging newest first, the 400 of bad paging parameters, and the
//! search over names and descriptions.

use actix_web::http::StatusCode;
use serde_json::json;

use usergroups::api::CreateGroup;

use super::named;
use crate::helpers::spawn_app;

#[actix_web::test]
async fn listing_pages_newest_first_with_totals() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create_group(&format!("Group {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids.reverse();

    let first = app.get("/api/v1/user-groups?limit=2").await;
    let last = app.get("/api/v1/user-groups?limit=2&page=3").await;
    let beyond = app.get("/api/v1/user-groups?limit=2&page=4").await;

    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["totalPages"], 3);
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["limit"], 2);
    let listed: Vec<_> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids[..2]);
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["items"][0]["id"], ids[4].as_str());
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["total"], 5);
}

#[actix_web::test]
async fn an_empty_list_has_zero_pages_and_defaults_to_page_1_of_20() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/user-groups").await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.body,
        json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0, "nextCursor": null})
    );
}

#[actix_web::test]
async fn bad_paging_parameters_are_a_400_naming_each() {
    let app = spawn_app().await;
    for (query, fields, why) in [
        ("page=0", vec!["page"], "pages start at 1"),
        ("page=-1", vec!["page"], "negative pages"),
        ("page=abc", vec!["page"], "non-numeric page"),
        ("limit=0", vec!["limit"], "limit starts at 1"),
        ("limit=101", vec!["limit"], "limit stops at 100"),
        ("limit=1.5", vec!["limit"], "fractional limit"),
        ("page=0&limit=500", vec!["page", "limit"], "both listed"),
        (
            "organizationId=nope",
            vec!["organizationId"],
            "organizationId must be a UUID",
        ),
    ] {
        let response = app.get(&format!("/api/v1/user-groups?{query}")).await;
        response.assert_error(400);
        assert_eq!(response.error_fields(), fields, "{why}: {}", response.body);
    }
    let ok = app.get("/api/v1/user-groups?limit=100&page=99999999").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[actix_web::test]
async fn search_matches_name_or_description_case_insensitively_with_literal_wildcards() {
    let app = spawn_app().await;
    app.create_group_with(&named("Global Sales")).await;
    app.create_group_with(&CreateGroup {
        description: Some("Handles SALES escalations".into()),
        ..named("Support")
    })
    .await;
    for name in ["Growth 100%", "Équipe", "a_b", "axb"] {
        app.create_group_with(&named(name)).await;
    }

    let names = |response: crate::helpers::TestResponse| -> Vec<String> {
        let mut names: Vec<String> = response.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };

    assert_eq!(
        names(app.get("/api/v1/user-groups?search=sales").await),
        ["Global Sales", "Support"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=100%25").await),
        ["Growth 100%"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=%25").await),
        ["Growth 100%"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=a_b").await),
        ["a_b"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=%C3%89QUIPE").await),
        ["Équipe"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=global+sales").await),
        ["Global Sales"]
    );
    assert_eq!(
        app.get("/api/v1/user-groups?search=nothing").await.body["total"],
        0
    );
}
