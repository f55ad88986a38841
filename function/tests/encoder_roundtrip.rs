//! Property: whatever strings go in, an independent SSE parser
//! (`eventsource-stream`) reads back exactly the event that was built, or the
//! encoder refused the input because a client could not have read it back.

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::{StreamExt, stream};
use lambda_sse::{EncodeError, Event};
use proptest::prelude::*;
use std::{convert::Infallible, time::Duration};

/// What a client reconstructs from `data`: every CRLF, CR or LF becomes LF.
fn as_client_sees(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

fn parse(bytes: Bytes) -> Vec<eventsource_stream::Event> {
    let body = stream::iter([Ok::<_, Infallible>(bytes)]);
    futures_executor::block_on(body.eventsource().map(|r| r.expect("parseable")).collect())
}

/// Text with many of the characters that matter to SSE, plus anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z: \r\n\0\u{feff}\u{2028}é😀]{0,12}", any::<String>(),]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trips_or_refuses(data in text(), id in text(), kind in text(), retry_ms in 0u64..10_000_000) {
        let built = Event::new().id(id.clone()).and_then(|e| e.event(kind.clone()));
        let event = match built {
            Err(EncodeError::LineBreak { field }) => {
                let value = if field == "id" { &id } else { &kind };
                prop_assert!(value.contains(['\r', '\n']), "{field} {value:?} refused without a line break");
                return Ok(());
            }
            Err(EncodeError::NulInId) => {
                prop_assert!(id.contains('\0'));
                return Ok(());
            }
            Err(EncodeError::ControlInId) => {
                prop_assert!(id.chars().any(char::is_control));
                return Ok(());
            }
            Ok(event) => event,
        };
        prop_assert!(!id.chars().any(char::is_control) && !kind.contains(['\r', '\n']));

        let bytes = event.data(data.clone()).retry(Duration::from_millis(retry_ms)).encode();
        prop_assert!(std::str::from_utf8(&bytes).is_ok());
        prop_assert!(!bytes.contains(&b'\r'), "only LF line endings");

        let parsed = parse(bytes);
        prop_assert_eq!(parsed.len(), 1);
        let got = &parsed[0];
        prop_assert_eq!(&got.data, &as_client_sees(&data));
        prop_assert_eq!(&got.id, &id);
        let expected_kind = if kind.is_empty() { "message" } else { kind.as_str() };
        prop_assert_eq!(got.event.as_str(), expected_kind);
        prop_assert_eq!(got.retry, Some(Duration::from_millis(retry_ms)));
    }

    #[test]
    fn comments_are_invisible_to_clients(text in text()) {
        match Event::comment(text.clone()) {
            Err(_) => prop_assert!(text.contains(['\r', '\n'])),
            Ok(comment) => {
                let mut bytes = comment.encode().to_vec();
                bytes.extend_from_slice(&Event::new().data("after").encode());
                let parsed = parse(Bytes::from(bytes));
                prop_assert_eq!(parsed.len(), 1);
                prop_assert_eq!(parsed[0].data.as_str(), "after");
            }
        }
    }
}
