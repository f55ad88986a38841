//! API Gateway REST API proxy events (payload 1.0) in, streamed answers out.
//! An integration with `responseTransferMode: STREAM` invokes the function
//! with response streaming and expects the same prelude as a Function URL
//! (anything else reaches the client as a 500), so the answer is written
//! exactly as for a Function URL, one value per header.

use super::UnsupportedEvent;
use crate::request::{Caller, Request};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The REST API event's fields this function reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestApiRequest {
    http_method: String,
    /// The request's path without the stage (or a custom domain's base path).
    path: Option<String>,
    query_string_parameters: Option<HashMap<String, String>>,
    multi_value_query_string_parameters: Option<HashMap<String, Vec<String>>>,
    headers: Option<HashMap<String, String>>,
    multi_value_headers: Option<HashMap<String, Vec<String>>>,
    request_context: RequestContext,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext {
    #[serde(default)]
    identity: Identity,
    /// A Cognito authorizer's `claims`, or a Lambda authorizer's
    /// `principalId` and context; absent with IAM or no authorization.
    authorizer: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Identity {
    account_id: Option<String>,
    user_arn: Option<String>,
}

pub(super) fn read(payload: Value) -> Result<Request, UnsupportedEvent> {
    let event: RestApiRequest = serde_json::from_value(payload)
        .map_err(|e| UnsupportedEvent(format!("malformed REST API request: {e}")))?;
    // Values arrive decoded: encode them again into a raw query string.
    let mut pairs = super::name_value_pairs(
        event.multi_value_query_string_parameters,
        event.query_string_parameters,
    );
    // HashMap order varies; sorted, a request always meets the same error first.
    pairs.sort();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let headers = super::header_map(super::name_value_pairs(
        event.multi_value_headers,
        event.headers,
    ));
    Ok(Request {
        method: super::method(&event.http_method),
        path: event.path.unwrap_or_else(|| "/".to_owned()),
        query,
        headers,
        params: HashMap::new(),
        deadline: None,
        caller: caller(event.request_context),
    })
}

/// The caller API Gateway established: an authorizer's principal and claims,
/// else the IAM signer (`AWS_IAM` methods), else nobody.
fn caller(context: RequestContext) -> Caller {
    if let Some(Value::Object(authorizer)) = context.authorizer {
        // Cognito puts the token's claims under `claims`; a Lambda
        // authorizer puts `principalId` and its context beside each other.
        let (claims, principal_id) = match authorizer.get("claims") {
            Some(Value::Object(claims)) => (claims.clone(), claim(claims.get("sub"))),
            _ => {
                let principal_id = claim(authorizer.get("principalId"));
                let mut context = authorizer;
                context.remove("principalId");
                context.remove("integrationLatency");
                (context, principal_id)
            }
        };
        let claims: BTreeMap<String, String> = claims
            .iter()
            .filter_map(|(name, value)| claim(Some(value)).map(|value| (name.clone(), value)))
            .collect();
        if principal_id.is_some() || !claims.is_empty() {
            return Caller::Authorized {
                principal_id,
                claims,
            };
        }
    }
    match (context.identity.account_id, context.identity.user_arn) {
        (Some(account_id), Some(arn)) => Caller::Iam { account_id, arn },
        _ => Caller::Anonymous,
    }
}

/// A claim or context value as text: authorizers pass strings, numbers and
/// booleans; anything else is left out.
fn claim(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIXTURE: &str = include_str!("../../tests/fixtures/rest-api-get.json");

    fn fixture() -> Value {
        serde_json::from_str(FIXTURE).unwrap()
    }

    #[test]
    fn reads_path_query_headers_and_the_iam_caller() {
        let request = read(fixture()).unwrap();
        assert_eq!(request.method(), http::Method::GET);
        assert_eq!(request.path(), "/events");
        // Decoded values encoded again; every value of a repeated name.
        assert_eq!(request.raw_query(), "interval_ms=100&note=a+b%26c&steps=3");
        assert_eq!(
            request.headers().get("last-event-id").unwrap(),
            "0c9d6a5e-3f0e-4b43-9a43-1a4c2f8e7b21/3:1"
        );
        assert_eq!(
            request.caller(),
            &Caller::Iam {
                account_id: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/reader".into()
            }
        );
    }

    #[test]
    fn reads_a_cognito_authorizers_claims() {
        let mut event = fixture();
        event["requestContext"]["identity"] = json!({"sourceIp": "203.0.113.7"});
        event["requestContext"]["authorizer"] = json!({"claims": {
            "sub": "6f1b-user", "email": "reader@example.com", "email_verified": "true",
            "cognito:groups": "readers"
        }});
        let Caller::Authorized {
            principal_id,
            claims,
        } = read(event).unwrap().caller().clone()
        else {
            panic!("an authorizer's caller");
        };
        assert_eq!(principal_id.as_deref(), Some("6f1b-user"));
        assert_eq!(claims["email"], "reader@example.com");
        assert_eq!(claims["cognito:groups"], "readers");
    }

    #[test]
    fn reads_a_lambda_authorizers_principal_and_context() {
        let mut event = fixture();
        event["requestContext"]["identity"] = json!({});
        event["requestContext"]["authorizer"] = json!({"principalId": "tenant-7", "tier": "gold", "quota": 5, "integrationLatency": 12});
        assert_eq!(
            read(event).unwrap().caller(),
            &Caller::Authorized {
                principal_id: Some("tenant-7".into()),
                claims: BTreeMap::from([
                    ("quota".to_owned(), "5".to_owned()),
                    ("tier".to_owned(), "gold".to_owned())
                ]),
            }
        );
    }

    #[test]
    fn an_open_method_has_no_caller() {
        let mut event = fixture();
        event["requestContext"]["identity"] = json!({"sourceIp": "203.0.113.7", "userArn": null});
        assert_eq!(read(event).unwrap().caller(), &Caller::Anonymous);
    }
}
