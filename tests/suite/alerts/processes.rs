//! Two server processes behind one address, as behind nginx (here a round-robin TCP proxy in the test): a key's rate
//! limit holds once across both, through Redis, and the alert a report raised is still delivered to its webhook after
//! the process that accepted the report is killed (`kill -9`), by the other one.

#![cfg_attr(not(redis), allow(dead_code, unused_imports))]

use super::*;
use crate::crash::{Server, request};

#[cfg(redis)]
const REDIS_URL: &str = env!("OBSERVATORY_TEST_REDIS_URL");
#[cfg(not(redis))]
const REDIS_URL: &str = "";

/// A round-robin TCP proxy on a loopback port in front of `backends`, each connection to the next one; the backends
/// chosen, in the order of the connections.
async fn proxy(backends: Vec<SocketAddr>) -> (SocketAddr, Arc<Mutex<Vec<usize>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let chosen = Arc::new(Mutex::new(Vec::new()));
    let log = chosen.clone();
    tokio::spawn(async move {
        for next in 0.. {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let index = next % backends.len();
            log.lock().unwrap().push(index);
            let backend = backends[index];
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (address, chosen)
}

async fn metrics(address: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(format!("GET /metrics HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text
}

async fn two_processes_behind_one_address_act_as_one(backend: Backend) {
    let app = app_allowing_loopback(&backend).await;
    let observatory = app.issue_key(PartnerKind::Observatory, None).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let reader = app.issue_key(PartnerKind::Ministry, None).await;
    let (receiver, url) = Receiver::start(&[Answer::Hang, Answer::Status(200)]).await;
    register(&app, &own_key, &url).await;
    let database = app.database_url();
    let mut servers = [
        Server::start_with(&database, Some(REDIS_URL), Some(20)).await,
        Server::start_with(&database, Some(REDIS_URL), Some(20)).await,
    ];
    let (address, chosen) = proxy(servers.iter().map(|s| s.address).collect()).await;

    // One limit of 20 requests a minute for the key, whichever process answers.
    let json = ("content-type", "application/json".to_owned());
    let mut allowed = 0;
    for _ in 0..40 {
        let (status, body) = request(
            address,
            "/graphql",
            &[json.clone(), ("authorization", format!("Bearer {reader}"))],
            br#"{"query":"{ __typename }"}"#,
        )
        .await
        .expect("answered");
        match status {
            200 => allowed += 1,
            429 => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        (20..=21).contains(&allowed),
        "{allowed} of 40 allowed with one limit of 20 for two processes"
    );
    assert_eq!(
        chosen.lock().unwrap().iter().filter(|&&i| i == 0).count(),
        20,
        "each process answered half"
    );
    for server in &servers {
        assert!(
            metrics(server.address)
                .await
                .contains("observatory_rate_limits_shared 1"),
            "both processes share the limits through Redis"
        );
    }

    // A report through the proxy; its webhook's first attempt hangs; the process that accepted it is killed.
    let month = month_of(9, REGIONS, (8, 12));
    let body = json!({ "query": SUBMIT, "variables": { "input": {
        "association": ASSOCIATION, "period": PERIOD,
        "clients": month.clients, "loans": month.loans, "staff": month.staff,
    }}})
    .to_string();
    let (status, answer) = request(
        address,
        "/graphql",
        &[json.clone(), ("authorization", format!("Bearer {observatory}"))],
        body.as_bytes(),
    )
    .await
    .expect("the report is answered");
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.contains("errors"), "{answer}");
    let accepting = *chosen.lock().unwrap().last().unwrap();
    let first = receiver.wait_for(1).await;
    servers[accepting].kill();
    let got = receiver.wait_for(2).await;
    assert_eq!(
        got[1].id, first[0].id,
        "the same event, delivered by the process still running"
    );
    assert!(signed(&got[1]));
    delivered_once(&app).await;
}

mod two_processes_behind_one_address_act_as_one {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(not(redis), ignore = "TEST_REDIS_URL was not set when the tests were built")]
    async fn sqlite() {
        super::two_processes_behind_one_address_act_as_one(observatory_tests::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(all(redis, postgres)),
        ignore = "TEST_REDIS_URL or TEST_DATABASE_URL was not set when the tests were built"
    )]
    async fn postgres() {
        let backend = observatory_tests::Backend::postgres()
            .expect("TEST_DATABASE_URL was set when the tests were built and must be set to run them");
        super::two_processes_behind_one_address_act_as_one(backend).await;
    }
}
