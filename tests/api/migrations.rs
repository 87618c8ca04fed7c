//! Instances that start together against a fresh database: the migrations
//! are applied once, under a lock every engine honours, and every instance
//! serves. (On MariaDB sqlx's own lock is a no-op: `GET_LOCK(name, -1)`.)

use secrecy::SecretString;

use crate::helpers::spawn_app_with;
use crate::services::{mariadb_database, postgres_database};

const INSTANCES: usize = 4;
const ROUNDS: usize = 4;

async fn start_together(url: &str) {
    let starts = (0..INSTANCES).map(|_| {
        let url = url.to_owned();
        spawn_app_with(move |s| s.database.url = Some(SecretString::from(url)))
    });
    let apps = futures_util::future::join_all(starts).await;
    for app in &apps {
        let response = app.client.get(&app.address).send().await.unwrap();
        assert_eq!(response.status(), 200, "every instance serves the feed");
    }
    for app in apps {
        app.stop().await;
    }
}

#[tokio::test]
async fn four_instances_migrate_a_fresh_mariadb_database_together() {
    for _ in 0..ROUNDS {
        start_together(&mariadb_database().await).await;
    }
}

#[tokio::test]
async fn four_instances_migrate_a_fresh_postgres_database_together() {
    for _ in 0..ROUNDS {
        start_together(&postgres_database().await).await;
    }
}
