//! Function URL events (payload 2.0) in, streamed answers out: the status and
//! headers go in the prelude, the body follows chunk by chunk as it is made.
//! A `RESPONSE_STREAM` URL expects the prelude even for a 404, so every answer
//! is streamed.

use super::UnsupportedEvent;
use crate::handler::{Reply, ResponseBody};
use crate::request::{Caller, Request};
use crate::response::{Body, HttpResponse};
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use futures_util::{StreamExt, stream};
use lambda_runtime::{FunctionResponse, MetadataPrelude, StreamResponse};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn read(payload: Value) -> Result<Request, UnsupportedEvent> {
    let event: LambdaFunctionUrlRequest = serde_json::from_value(payload)
        .map_err(|e| UnsupportedEvent(format!("malformed Function URL request: {e}")))?;
    let context = event.request_context;
    // An AWS_IAM URL puts the verified signer in the context; a public one nothing.
    let caller = context
        .authorizer
        .and_then(|authorizer| authorizer.iam)
        .and_then(|iam| match (iam.account_id, iam.user_arn) {
            (Some(account_id), Some(arn)) => Some(Caller::Iam { account_id, arn }),
            _ => None,
        })
        .unwrap_or(Caller::Anonymous);
    Ok(Request {
        method: super::method(&context.http.method.unwrap_or_default()),
        path: event.raw_path.unwrap_or_else(|| "/".to_owned()),
        query: event.raw_query_string.unwrap_or_default(),
        headers: event.headers,
        params: HashMap::new(),
        deadline: None,
        caller,
    })
}

pub(super) fn streamed(response: HttpResponse) -> Reply {
    let body: ResponseBody = match response.body {
        // No chunk at all for an empty body: an empty chunk would end a chunked body early.
        Body::Full(bytes) if bytes.is_empty() => Box::pin(stream::empty()),
        Body::Full(bytes) => Box::pin(stream::once(async move { Ok(bytes) })),
        Body::Events(events) => Box::pin(events.map(Ok)),
    };
    FunctionResponse::StreamingResponse(StreamResponse {
        metadata_prelude: MetadataPrelude {
            status_code: response.status,
            headers: response.headers,
            cookies: Vec::new(),
        },
        stream: body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/function-url-get.json");

    #[test]
    fn reads_the_iam_caller_of_a_signed_request() {
        let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
        event["requestContext"]["authorizer"] = serde_json::json!({"iam": {
            "accessKey": "AKIA", "accountId": "111122223333", "callerId": "AIDA",
            "userArn": "arn:aws:iam::111122223333:user/reader", "userId": "AIDA"
        }});
        let request = read(event).unwrap();
        assert_eq!(
            request.caller(),
            &Caller::Iam {
                account_id: "111122223333".into(),
                arn: "arn:aws:iam::111122223333:user/reader".into()
            }
        );
        let mut public: Value = serde_json::from_str(FIXTURE).unwrap();
        public["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        assert_eq!(read(public).unwrap().caller(), &Caller::Anonymous);
    }
}
