//! Subscriptions over WebSocket (`graphql-transport-ws`): alerts received in this process and from another, the
//! protocol's refusals and close codes, and the notice sent at shutdown.

use super::*;

/// A subscriber (graphql-transport-ws, its key in `connection_init`) receives the alert its report raised; another
/// association's subscriber does not.
async fn a_subscriber_receives_the_alert(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    quiet_lateness(&app).await;
    let address = serve(&app).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let other_key = app.issue_key(PartnerKind::Association, Some("PALMIER")).await;
    let query = RAISED
        .replace("($rules: [String!])", "")
        .replace("$rules", "[\"PAR30_ABOVE_5_ASSOCIATION\"]");
    let mut own = subscribe(address, Some(&own_key), &query).await;
    let mut other = subscribe(address, Some(&other_key), &query).await;
    let sent = Instant::now();
    send(&app, ASSOCIATION, PERIOD, &month_of(10, REGIONS, (8, 12))).await;
    let text = next_text(&mut own, Duration::from_secs(10))
        .await
        .expect("a message")
        .expect("not closed");
    let latency = sent.elapsed();
    let keys = [
        "\"id\"",
        "\"rule\"",
        "\"association\"",
        "\"period\"",
        "\"value\"",
        "\"status\"",
    ];
    let at: Vec<usize> = keys.iter().map(|k| text.rfind(k).expect("every field")).collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "the fields come in the query's order: {text}"
    );
    let message: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], "1");
    let alert = &message["payload"]["data"]["alertRaised"];
    assert_eq!(alert["rule"]["code"], PAR30_RULE);
    assert_eq!(alert["association"]["code"], ASSOCIATION);
    assert_eq!(alert["period"], PERIOD);
    assert_eq!(alert["status"], "OPEN");
    assert!(
        next_message(&mut other, Duration::from_millis(800)).await.is_none(),
        "another association receives nothing"
    );
    send_json(&mut own, json!({"id": "1", "type": "complete"})).await;
    println!("report accepted → subscription message: {} ms", latency.as_millis());
}
on_both_backends!(a_subscriber_receives_the_alert);

/// A subscriber connected to another server process over the same database receives the alert a report accepted by
/// this one raised: events travel through the database, not through one process's memory.
async fn a_subscriber_on_another_process_receives_the_alert(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    quiet_lateness(&app).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let other = crate::crash::Server::start(&app.database_url()).await;
    let query = RAISED
        .replace("($rules: [String!])", "")
        .replace("$rules", "[\"PAR30_ABOVE_5_ASSOCIATION\"]");
    let mut socket = subscribe(other.address, Some(&own_key), &query).await;
    send(&app, ASSOCIATION, PERIOD, &month_of(12, REGIONS, (8, 12))).await;
    let message = next_message(&mut socket, Duration::from_secs(10))
        .await
        .expect("a message")
        .expect("not closed");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["data"]["alertRaised"]["association"]["code"],
        ASSOCIATION
    );
    assert_eq!(message["payload"]["data"]["alertRaised"]["period"], PERIOD);
}
on_both_backends!(a_subscriber_on_another_process_receives_the_alert);

/// The protocol's refusals: a wrong key closes with 4403, `subscribe` before `connection_init` with 4401, an id in use
/// with 4409, a second `connection_init` with 4429; a query over WebSocket and a subscription over HTTP are refused
/// with a GraphQL error.
async fn the_socket_refuses_what_the_protocol_refuses(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let address = serve(&app).await;
    let query = "subscription { alertRaised { id } }";

    let mut socket = connect(address).await;
    send_json(
        &mut socket,
        json!({"type": "connection_init", "payload": {"Authorization": "Bearer mfo_wrong"}}),
    )
    .await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4403)));

    let mut socket = connect(address).await;
    send_json(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4401)));

    let mut socket = subscribe(address, None, query).await;
    send_json(
        &mut socket,
        json!({"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    let refused = next_message(&mut socket, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["id"], "2");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_REQUEST");
    send_json(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4409)));

    let mut socket = subscribe(address, None, query).await;
    send_json(&mut socket, json!({"type": "connection_init"})).await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4429)));

    let mut socket = connect(address).await;
    send_json(&mut socket, json!({"type": "no_such_message"})).await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4400)));

    let reply = app.graphql(query, json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);

    // Limits: a document over the budget is refused before it runs; a socket runs at most 16 subscriptions; an
    // address holds at most 16 sockets.
    let mut socket = subscribe(address, None, query).await;
    let aliases: String = (0..400)
        .map(|i| format!("b{i}: association {{ branches(first: 500) {{ nodes {{ code name city }} }} }} "))
        .collect();
    let costly = format!("subscription {{ alertRaised {{ id {aliases} }} }}");
    send_json(
        &mut socket,
        json!({"id": "costly", "type": "subscribe", "payload": {"query": costly}}),
    )
    .await;
    let refused = next_message(&mut socket, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_REQUEST", "{refused}");
    for id in 2..=16 {
        send_json(
            &mut socket,
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": query}}),
        )
        .await;
    }
    send_json(
        &mut socket,
        json!({"id": "17", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    let refused = next_message(&mut socket, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (refused["type"].as_str(), refused["id"].as_str()),
        (Some("error"), Some("17")),
        "{refused}"
    );
    let mut sockets = vec![socket];
    // Each socket acknowledged before the next opens: the server counts a socket once it is upgraded, so the
    // seventeenth is the one over the limit, not whichever upgrade the runtime happened to run last.
    for _ in 1..16 {
        sockets.push(initialised(address).await);
    }
    let mut one_too_many = connect(address).await;
    assert_eq!(
        next_message(&mut one_too_many, Duration::from_secs(5)).await,
        Some(Err(4429))
    );
}
on_both_backends!(the_socket_refuses_what_the_protocol_refuses);

/// A message over 64 KiB (up to 1 MiB) is answered with the close code 1009, not a reset connection, and a subscription id
/// longer than 128 characters closes the socket with 4400 and a reason, as the protocol closes invalid messages; an
/// id of 128 characters runs.
async fn oversized_messages_and_ids_are_closed_with_their_codes(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let address = serve(&app).await;
    let query = "subscription { alertRaised { id } }";
    for size in [64 * 1024, 900 * 1024] {
        let mut socket = initialised(address).await;
        let padding = "x".repeat(size);
        send_json(&mut socket, json!({"type": "ping", "payload": {"padding": padding}})).await;
        assert_eq!(
            next_message(&mut socket, Duration::from_secs(5)).await,
            Some(Err(1009)),
            "a message of {size} bytes"
        );
    }

    let mut socket = initialised(address).await;
    let id = "i".repeat(10_000);
    send_json(
        &mut socket,
        json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("an answer")
        .expect("a message")
        .expect("a close frame, not an error");
    let Message::Close(Some(frame)) = closed else {
        panic!("closed with a frame: {closed:?}")
    };
    assert_eq!(u16::from(frame.code), 4400);
    assert!(frame.reason.contains("128"), "{}", frame.reason);

    let mut socket = initialised(address).await;
    let id = "i".repeat(128);
    send_json(
        &mut socket,
        json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    send_json(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(
        next_message(&mut socket, Duration::from_secs(5)).await,
        Some(Ok(json!({"type": "pong"}))),
        "an id of 128 characters runs"
    );
}
on_both_backends!(oversized_messages_and_ids_are_closed_with_their_codes);

/// When the server shuts down, every open socket gets a close frame (1001, going away) rather than a cut connection,
/// so that clients end their subscriptions cleanly.
async fn subscribers_are_told_when_the_server_shuts_down(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let mut subscribed = subscribe(address, None, "subscription { alertRaised { id } }").await;
    let mut idle = initialised(address).await;
    stop.send(()).unwrap();
    for socket in [&mut subscribed, &mut idle] {
        assert_eq!(
            next_message(socket, Duration::from_secs(5)).await,
            Some(Err(1001)),
            "closed as going away"
        );
    }
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
on_both_backends!(subscribers_are_told_when_the_server_shuts_down);
