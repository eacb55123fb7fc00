//! The tables, by hand and in portable types only (see `diesel.toml`): the same `schema.rs`
//! describes the SQLite and the PostgreSQL migrations.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    access_keys (id) {
        id -> Text,
        organization_id -> Text,
        secret -> Text,
        permissions -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_groups (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        name_folded -> Text,
        description -> Nullable<Text>,
        description_folded -> Nullable<Text>,
        external_id -> Nullable<Text>,
        extra_fields -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        tags -> Nullable<Text>,
        role_ids -> Text,
        service_account_ids -> Text,
        created_by -> Nullable<Text>,
        modified_at -> Nullable<Timestamp>,
        modified_by -> Nullable<Text>,
        version -> BigInt,
        deleted_by -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Text,
        first_name -> Text,
        last_name -> Text,
        full_name_folded -> Text,
        email -> Text,
        email_folded -> Text,
        role -> Text,
        avatar -> Nullable<Text>,
        user_group_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
        deleted_by -> Nullable<Text>,
    }
}

diesel::table! {
    used_signatures (signature) {
        signature -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Bearer tokens: the SHA-256 hex of each token, never the token itself.
    access_tokens (token_hash) {
        token_hash -> Text,
        access_key_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(access_keys -> organizations (organization_id));
diesel::joinable!(access_tokens -> access_keys (access_key_id));
diesel::joinable!(user_groups -> organizations (organization_id));
diesel::joinable!(users -> user_groups (user_group_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    access_keys,
    user_groups,
    users,
    used_signatures,
    access_tokens,
    live_counts,
    event_sequences,
    events,
    idempotency_keys,
    deployment,
);

diesel::table! {
    /// Live rows per organization and kind (`group`, `user`), kept by the domain's writes.
    live_counts (organization_id, kind) {
        organization_id -> Text,
        kind -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    /// The last event sequence number of each organization (the change feed's order).
    event_sequences (organization_id) {
        organization_id -> Text,
        last -> BigInt,
    }
}

diesel::table! {
    /// The change feed: one row per change of a group or user, in the change's transaction.
    events (organization_id, seq) {
        organization_id -> Text,
        seq -> BigInt,
        event_type -> Text,
        resource_id -> Text,
        actor -> Text,
        occurred_at -> Timestamp,
        resource -> Text,
    }
}

diesel::table! {
    /// The stored first answers of creates sent with an `Idempotency-Key`.
    idempotency_keys (access_key_id, idempotency_key) {
        access_key_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// One row: the schema's generation (the fence against older writers) and when the
    /// retention started to count for rows deleted before it.
    deployment (id) {
        id -> Integer,
        schema_generation -> BigInt,
        retention_since -> Timestamp,
    }
}
