//! The stack's secrets (database password, session key, admin token): made
//! once, kept in an SSM SecureString that only the instances' role may read,
//! and never printed or written to the state file.

use aws_sdk_ssm::types::{ParameterType, Tag};
use rand::RngCore;

use super::clients::Clients;
use super::error::{api, AwsError};
use super::names::StackName;

/// The parameter's value: `KEY=value` lines the instances read at boot.
/// Hex only, so no quoting is ever needed.
fn generate() -> String {
    let token = |bytes: usize| {
        let mut buf = vec![0u8; bytes];
        rand::thread_rng().fill_bytes(&mut buf);
        hex::encode(buf)
    };
    format!(
        "DB_PASSWORD={}\nSESSION_KEY={}\nADMIN_TOKEN={}\n",
        token(16),
        token(64),
        token(24)
    )
}

/// Creates the parameter when missing (an existing one is kept: the
/// database already has its password).
pub async fn ensure(clients: &Clients, stack: &StackName, exists: bool) -> Result<(), AwsError> {
    if exists {
        return Ok(());
    }
    let name = stack.secrets_parameter();
    let tags = super::names::tags(stack, 0)
        .into_iter()
        .filter(|(k, _)| k == super::names::STACK_TAG)
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value are set")
        });
    clients
        .ssm
        .put_parameter()
        .name(&name)
        .description(format!("photoscale {stack}: generated secrets"))
        .r#type(ParameterType::SecureString)
        .value(generate())
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .map_err(api("PutParameter", &name))?;
    Ok(())
}

/// One secret, for the database's master password.
pub async fn read(clients: &Clients, stack: &StackName, key: &str) -> Result<String, AwsError> {
    let name = stack.secrets_parameter();
    let out = clients
        .ssm
        .get_parameter()
        .name(&name)
        .with_decryption(true)
        .send()
        .await
        .map_err(api("GetParameter", &name))?;
    let value = out.parameter().and_then(|p| p.value()).unwrap_or_default();
    value
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
        .ok_or_else(|| AwsError::Invalid(format!("the parameter {name} has no {key}\n  fix: delete the parameter (and the database it was made for) with `infra down --target aws`")))
}

pub async fn delete(clients: &Clients, stack: &StackName) -> Result<(), AwsError> {
    let name = stack.secrets_parameter();
    match clients.ssm.delete_parameter().name(&name).send().await {
        Ok(_) => Ok(()),
        Err(e) if super::error::code_of(&e) == Some("ParameterNotFound") => Ok(()),
        Err(e) => Err(api("DeleteParameter", &name)(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_hex_lines() {
        let value = super::generate();
        assert_eq!(value.lines().count(), 3);
        for line in value.lines() {
            let (_, secret) = line.split_once('=').unwrap();
            assert!(secret.len() >= 32 && secret.chars().all(|c| c.is_ascii_hexdigit()));
        }
        assert_ne!(super::generate(), value);
    }
}
