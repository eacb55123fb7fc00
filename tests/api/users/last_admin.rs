//! The organization keeps at least one live admin: deleting or demoting the last one is a 403,
//! on `DELETE` and `PUT` alike, and only live admins count.

use actix_web::http::StatusCode;
use usergroups::api::{UpdateGroup, UpdateUser};
use usergroups::role::Role;

use crate::helpers::{group_path, id_of, ids_of, spawn_app, user_path};

/// An update that changes the role and nothing else.
fn to_role(role: Role) -> UpdateUser {
    UpdateUser {
        role: Some(role),
        ..UpdateUser::default()
    }
}

#[actix_web::test]
async fn deleting_the_last_admin_is_refused() {
    let app = spawn_app().await;
    let admin = app
        .create_user_with_role("admin@example.com", None, "admin")
        .await;
    app.create_user_with_role("editor@example.com", None, "editor")
        .await;

    let response = app.delete(&user_path(&id_of(&admin))).await;

    response.assert_error(403);
    assert_eq!(
        response.message(),
        "Cannot delete the organization's last admin user"
    );
    assert_eq!(app.get(&user_path(&id_of(&admin))).await.body, admin);
}

#[actix_web::test]
async fn demoting_the_last_admin_is_refused() {
    let app = spawn_app().await;
    let admin = app
        .create_user_with_role("admin@example.com", None, "admin")
        .await;

    for role in [Role::Editor, Role::Creator] {
        let response = app
            .update_user(
                &id_of(&admin),
                &UpdateUser {
                    role: Some(role),
                    first_name: Some("Changed".into()),
                    ..UpdateUser::default()
                },
            )
            .await;

        response.assert_error(403);
        assert_eq!(
            response.message(),
            "Cannot demote the organization's last admin user",
            "{role}"
        );
    }
    assert_eq!(app.get(&user_path(&id_of(&admin))).await.body, admin);
}

#[actix_web::test]
async fn the_last_admin_can_still_be_updated_without_a_demotion() {
    let app = spawn_app().await;
    let id = id_of(
        &app.create_user_with_role("admin@example.com", None, "admin")
            .await,
    );

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                role: Some(Role::Admin),
                first_name: Some("Grace".into()),
                ..UpdateUser::default()
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "admin");
    assert_eq!(response.body["firstName"], "Grace");
}

#[actix_web::test]
async fn an_admin_can_be_deleted_while_another_live_admin_remains() {
    let app = spawn_app().await;
    let first = id_of(
        &app.create_user_with_role("first@example.com", None, "admin")
            .await,
    );
    let second = id_of(
        &app.create_user_with_role("second@example.com", None, "admin")
            .await,
    );

    let response = app.delete(&user_path(&first)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let last = app.delete(&user_path(&second)).await;
    last.assert_error(403);
    assert_eq!(
        last.message(),
        "Cannot delete the organization's last admin user"
    );
}

#[actix_web::test]
async fn an_admin_can_be_demoted_while_another_live_admin_remains() {
    let app = spawn_app().await;
    let first = id_of(
        &app.create_user_with_role("first@example.com", None, "admin")
            .await,
    );
    let second = id_of(
        &app.create_user_with_role("second@example.com", None, "admin")
            .await,
    );

    let response = app.update_user(&first, &to_role(Role::Editor)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "editor");
    let last = app.update_user(&second, &to_role(Role::Creator)).await;
    last.assert_error(403);
    assert_eq!(
        last.message(),
        "Cannot demote the organization's last admin user"
    );
}

#[actix_web::test]
async fn a_deleted_admin_does_not_count_as_another_admin() {
    let app = spawn_app().await;
    let kept = id_of(
        &app.create_user_with_role("kept@example.com", None, "admin")
            .await,
    );
    let gone = id_of(
        &app.create_user_with_role("gone@example.com", None, "admin")
            .await,
    );
    assert_eq!(app.delete(&user_path(&gone)).await.status, StatusCode::OK);

    let deleted = app.delete(&user_path(&kept)).await;
    let demoted = app.update_user(&kept, &to_role(Role::Editor)).await;

    deleted.assert_error(403);
    demoted.assert_error(403);
}

#[actix_web::test]
async fn promoting_a_user_lets_the_former_last_admin_be_demoted() {
    let app = spawn_app().await;
    let admin = id_of(
        &app.create_user_with_role("admin@example.com", None, "admin")
            .await,
    );
    let editor = id_of(
        &app.create_user_with_role("editor@example.com", None, "editor")
            .await,
    );
    let promoted = app.update_user(&editor, &to_role(Role::Admin)).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);

    let response = app.update_user(&admin, &to_role(Role::Creator)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "creator");
}

#[actix_web::test]
async fn users_who_are_not_admins_can_be_deleted_when_there_is_no_admin_at_all() {
    let app = spawn_app().await;
    let id = id_of(
        &app.create_user_with_role("editor@example.com", None, "editor")
            .await,
    );

    let response = app.delete(&user_path(&id)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

/// Statuses of `responses` other than 200, with how often each came, for a failure message.
fn failures(statuses: &[StatusCode]) -> Vec<(StatusCode, usize)> {
    let mut seen: Vec<(StatusCode, usize)> = Vec::new();
    for status in statuses.iter().filter(|s| **s != StatusCode::OK) {
        match seen.iter_mut().find(|(s, _)| s == status) {
            Some((_, n)) => *n += 1,
            None => seen.push((*status, 1)),
        }
    }
    seen
}

#[actix_web::test]
async fn dozens_of_concurrent_deletes_with_admins_among_them_all_succeed_and_keep_one_admin() {
    let app = spawn_app().await;
    let other = app.second_instance();
    let mut ids = Vec::new();
    for i in 0..48 {
        let role = if i % 3 == 0 { "admin" } else { "editor" };
        ids.push(id_of(
            &app.create_user_with_role(&format!("u{i}@example.com"), None, role)
                .await,
        ));
    }
    // The one kept is an admin, so every delete may go through.
    let kept = ids.remove(0);

    let statuses = futures_util::future::join_all(ids.iter().enumerate().map(|(i, id)| {
        let instance = if i % 2 == 0 { &app } else { &other };
        async move { instance.delete(&user_path(id)).await.status }
    }))
    .await;

    assert_eq!(failures(&statuses), vec![], "47 deletes, 15 of them admins");
    let listed = app.get("/api/v1/users").await;
    assert_eq!(listed.body["total"], 1, "{}", listed.body);
    assert_eq!(ids_of(&listed.body), vec![kept]);
}

#[actix_web::test]
async fn concurrent_deletes_demotions_and_group_writes_never_fail_and_never_remove_the_last_admin()
{
    let app = spawn_app().await;
    let other = app.second_instance();
    let mut admins = Vec::new();
    for i in 0..32 {
        admins.push(id_of(
            &app.create_user_with_role(&format!("a{i}@example.com"), None, "admin")
                .await,
        ));
    }
    let group = id_of(&app.create_group("Busy").await);

    let writes = admins.iter().enumerate().map(|(i, id)| {
        let instance = if i % 2 == 0 { &app } else { &other };
        let group = &group;
        async move {
            match i % 4 {
                0 => instance.delete(&user_path(id)).await.status,
                1 => {
                    instance
                        .update_user(id, &to_role(Role::Editor))
                        .await
                        .status
                }
                2 => {
                    let join = UpdateUser {
                        role: Some(Role::Creator),
                        user_group_id: Some(Some(group.clone())),
                        ..UpdateUser::default()
                    };
                    instance.update_user(id, &join).await.status
                }
                _ => instance.delete(&user_path(id)).await.status,
            }
        }
    });
    let empty_groups = {
        let mut ids = Vec::new();
        for i in 0..8 {
            ids.push(id_of(&app.create_group(&format!("Empty {i}")).await));
        }
        ids
    };
    let group_writes = empty_groups.iter().enumerate().map(|(i, id)| {
        let instance = if i % 2 == 0 { &app } else { &other };
        let group = &group;
        async move {
            let renamed = instance
                .update_group(
                    group,
                    &UpdateGroup {
                        name: Some(format!("Busy {i}")),
                        ..UpdateGroup::default()
                    },
                )
                .await
                .status;
            let deleted = instance.delete(&group_path(id)).await.status;
            [renamed, deleted]
        }
    });
    let (statuses, group_statuses) = futures_util::future::join(
        futures_util::future::join_all(writes),
        futures_util::future::join_all(group_writes),
    )
    .await;

    let group_statuses: Vec<StatusCode> = group_statuses.into_iter().flatten().collect();
    assert_eq!(failures(&group_statuses), vec![]);
    // Every write but the one that would remove the last admin goes through.
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    let other_failures: Vec<_> = failures(&statuses)
        .into_iter()
        .filter(|(s, _)| *s != StatusCode::FORBIDDEN)
        .collect();
    assert_eq!(other_failures, vec![], "{statuses:?}");
    assert_eq!(refused, 1, "{statuses:?}");
    let admins_left = crate::helpers::count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users WHERE deleted_at IS NULL AND role = 'admin'",
    );
    assert_eq!(admins_left, 1);
}
