//! A local DynamoDB for tests: dynalite (npm) on a free 127.0.0.1 port,
//! stopped with the test, and a table with the layout the CDK app deploys.

#![allow(dead_code)] // Each test binary uses its own part of it.

use super::process::{Running, free_port};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use lambda_sse::durable::{Table, create_table};
use std::{path::PathBuf, time::Duration};
use tokio::{process::Command, time::Instant};

pub const TABLE: &str = "sse-test";

pub struct LocalDynamo {
    pub process: Running,
    pub endpoint: String,
}

impl LocalDynamo {
    /// dynalite on loopback, with the streams table created.
    pub async fn start() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf();
        let port = free_port();
        let mut command = Command::new(root.join("node_modules/.bin/dynalite"));
        command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
        let process = Running::start(
            &mut command,
            "dynalite starts (run `npm test`, which installs the npm packages)",
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "dynalite did not start: {}",
                process.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            listening_addresses(port),
            ["127.0.0.1"],
            "dynalite listens on loopback only"
        );
        let local = Self {
            process,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        assert!(create_table(&local.table()).await.expect("table created"));
        local
    }

    /// The table, through a client of this endpoint.
    pub fn table(&self) -> Table {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
            .endpoint_url(&self.endpoint)
            .build();
        Table::new(aws_sdk_dynamodb::Client::from_conf(config), TABLE)
    }

    /// The environment a function or `sse-publish` needs to reach it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SSE_TABLE_NAME", TABLE.to_owned()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "local".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            // No instance metadata or profile lookups from a test.
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }
}

/// The addresses listening on `port` (IPv4, from /proc/net/tcp), as
/// `a.b.c.d`: proof that a local server listens on loopback only.
pub fn listening_addresses(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state) = (fields.get(1)?, fields.get(3)?);
            let (address, hex_port) = local.split_once(':')?;
            // 0A: LISTEN.
            if *state != "0A" || u16::from_str_radix(hex_port, 16).ok()? != port {
                return None;
            }
            let raw = u32::from_str_radix(address, 16).ok()?;
            Some(std::net::Ipv4Addr::from(raw.swap_bytes()).to_string())
        })
        .collect()
}
