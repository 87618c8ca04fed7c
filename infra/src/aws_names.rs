//! What an AWS stack's resources are called and how they are tagged (always
//! compiled: the command line checks stack names without the AWS SDK). Names are
//! derived from the stack name, so `up` finds what an earlier run made (even
//! without a state file) and `down` finds leftovers.

use std::fmt;

/// Every resource carries this tag with the stack name.
pub const STACK_TAG: &str = "photoscale:stack";
/// ... and this one with the level that last touched it.
pub const LEVEL_TAG: &str = "photoscale:level";
/// On instances and launch templates: the fingerprint of their configuration,
/// so a changed configuration is seen and the instances replaced.
pub const CONFIG_TAG: &str = "photoscale:config";

/// A stack name: short enough for every AWS name it becomes part of (load
/// balancer names stop at 32 characters, bucket names at 63).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackName(String);

const MAX_LEN: usize = 20;

impl StackName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok_chars = text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let starts_with_letter = text.starts_with(|c: char| c.is_ascii_lowercase());
        if text.is_empty()
            || text.len() > MAX_LEN
            || !ok_chars
            || !starts_with_letter
            || text.ends_with('-')
            || text.contains("--")
        {
            return Err(format!(
                "{text:?} cannot name a stack: use 1 to {MAX_LEN} lowercase letters, digits and single hyphens, starting with a letter, e.g. demo or team-a"
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn prefixed(&self, suffix: &str) -> String {
        match suffix {
            "" => format!("photoscale-{}", self.0),
            _ => format!("photoscale-{}-{suffix}", self.0),
        }
    }

    /// Security group `kind`: lb, app, db or cache.
    pub fn security_group(&self, kind: &str) -> String {
        self.prefixed(kind)
    }

    /// Load balancer, target group, RDS instance, ElastiCache cluster and
    /// Auto Scaling group share this name.
    pub fn main(&self) -> String {
        self.prefixed("")
    }

    /// The launch template for one configuration (templates are not
    /// changed in place: a new configuration gets a new template).
    pub fn launch_template(&self, config: &str) -> String {
        self.prefixed(config)
    }

    /// The instances' IAM role and instance profile. IAM is global, so the
    /// region is in the name: one stack name in two regions is two stacks,
    /// each with a role whose policies name its own region.
    pub fn role(&self, region: &str) -> String {
        self.prefixed(&format!("app-{region}"))
    }

    /// What the role and profile were called before they carried the
    /// region; `up` and `down` find and remove them.
    pub fn legacy_role(&self) -> String {
        self.prefixed("app")
    }

    /// The `Name` tag of every app instance.
    pub fn instance(&self) -> String {
        self.prefixed("app")
    }

    /// Bucket names are global: the account and region make ours unique.
    pub fn bucket(&self, account: &str, region: &str) -> String {
        format!("photoscale-{}-{account}-{region}", self.0)
    }

    /// The private bucket `up` delivers the app binary through.
    pub fn artifacts_bucket(&self, account: &str, region: &str) -> String {
        format!("{}-app", self.bucket(account, region))
    }

    pub fn alarm(&self, alarm: &str) -> String {
        self.prefixed(alarm)
    }

    pub fn topic(&self) -> String {
        self.prefixed("scaling")
    }

    /// The SSM parameter (SecureString) holding the generated secrets.
    pub fn secrets_parameter(&self) -> String {
        format!("/photoscale/{}/secrets", self.0)
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tags every resource of `stack` at `level` carries (plus `Name` where
/// AWS shows it).
pub fn tags(stack: &StackName, level: u8) -> Vec<(String, String)> {
    vec![
        (STACK_TAG.to_owned(), stack.to_string()),
        (LEVEL_TAG.to_owned(), level.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_make_valid_aws_names() {
        let stack = StackName::parse("abcdefghij-klmnopqrs").unwrap();
        assert!(stack.main().len() <= 32, "load balancer names stop at 32");
        let role = stack.role("ap-southeast-3");
        assert!(role.len() <= 64, "{role} is too long for a role");
        assert_ne!(stack.role("eu-west-1"), stack.role("us-east-1"));
        let bucket = stack.bucket("123456789012", "ap-southeast-3");
        assert!(bucket.len() <= 63, "{bucket} is too long for a bucket");
        let artifacts = stack.artifacts_bucket("123456789012", "ap-southeast-3");
        assert!(
            artifacts.len() <= 63,
            "{artifacts} is too long for a bucket"
        );
        assert_eq!(
            stack.secrets_parameter(),
            "/photoscale/abcdefghij-klmnopqrs/secrets"
        );
    }

    #[test]
    fn bad_names_are_explained() {
        for bad in [
            "",
            "Demo",
            "1st",
            "a_b",
            "ends-",
            "a--b",
            "abcdefghijklmnopqrstu",
        ] {
            let error = StackName::parse(bad).unwrap_err();
            assert!(error.contains("lowercase letters"), "{bad}: {error}");
        }
    }
}
