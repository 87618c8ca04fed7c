//! Who is serving: the instance id and listening address shown on every page,
//! like the classic demo printed the server's IP.

use std::net::SocketAddr;

#[derive(Debug, Clone, serde::Serialize)]
pub struct InstanceInfo {
    pub id: String,
    pub address: String,
}

impl InstanceInfo {
    pub fn new(configured_id: Option<&str>, address: SocketAddr) -> Self {
        let id = configured_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("i-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
        Self {
            id,
            address: address.to_string(),
        }
    }
}
