//! One client per AWS service, all from the standard AWS configuration
//! (environment, profiles, instance roles) with the user's flags on top.

use aws_config::{BehaviorVersion, Region};

use super::error::{api, AwsError};

/// Where and as whom to talk to AWS.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// `--region`; else AWS_REGION or the profile's region.
    pub region: Option<String>,
    /// `--profile`; else AWS_PROFILE or `default`.
    pub profile: Option<String>,
    /// `--endpoint-url`: one endpoint for every service, e.g. an emulator.
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the standard chain (emulators and tests).
    pub static_credentials: Option<(String, String)>,
}

pub struct Clients {
    pub region: String,
    pub account: String,
    /// True when talking to an emulator through --endpoint-url.
    pub emulated: bool,
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub rds: aws_sdk_rds::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub ssm: aws_sdk_ssm::Client,
}

impl Clients {
    /// Loads the configuration and asks STS who we are (which also proves
    /// the credentials work before anything is created).
    pub async fn connect(connection: &Connection) -> Result<Self, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &connection.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &connection.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &connection.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = &connection.static_credentials {
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                key, secret, None, None, "static",
            ));
        }
        let config = loader.load().await;
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err(AwsError::Invalid(
                "no AWS region is configured\n  fix: pass --region, e.g. --region eu-west-1, or set AWS_REGION or a region in your profile".into(),
            ));
        };
        let identity = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .map_err(api("GetCallerIdentity", "the credentials"))?;
        let account = identity.account().unwrap_or_default().to_owned();
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            // Emulators serve buckets under their one address, not as subdomains.
            .force_path_style(connection.endpoint_url.is_some())
            .build();
        Ok(Self {
            region,
            account,
            emulated: connection.endpoint_url.is_some(),
            ec2: aws_sdk_ec2::Client::new(&config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            autoscaling: aws_sdk_autoscaling::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            rds: aws_sdk_rds::Client::new(&config),
            elasticache: aws_sdk_elasticache::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            iam: aws_sdk_iam::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
        })
    }
}
