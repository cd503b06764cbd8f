//! The API's published descriptions: `/v1/openapi.json` covers every route the router serves,
//! with a problem for every error; `/v1/frames.schema.json` holds each side's frames; and the
//! check that holds every other test to them (`crate::contract`) refuses what they do not say.

use std::panic::catch_unwind;

use axum::http::Method;
use serde_json::{Value, json};
use tandem_protocol::{ClientMessageId, CustomerFrame, ProblemCode};

use crate::common::spawn_app;
use crate::contract::check_response;

/// Every `.route("path", method(…).method(…))` of the API router's source, as (method, path).
fn routed() -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for file in ["src/lib.rs", "src/attachments.rs"] {
        let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .expect("the router's source");
        // The demo's pages are on a listener of their own, not the API's.
        let api = source.split("pub fn demo_app").next().unwrap_or_default();
        for line in api.lines().filter_map(|line| line.trim().strip_prefix(".route(\"")) {
            let Some((path, rest)) = line.split_once('"') else { continue };
            for method in ["get", "post", "put", "delete"] {
                if rest.contains(&format!(" {method}(")) || rest.contains(&format!(".{method}(")) {
                    routes.push((method.to_owned(), path.to_owned()));
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_every_error_as_a_problem() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/v1/openapi.json")).send().await.expect("the document");
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.expect("JSON");
    assert!(document["openapi"].as_str().is_some_and(|version| version.starts_with("3.1")));
    // The OpenAPI Initiative's schema of 3.1 documents (spec.openapis.org/oas/3.1/schema/2022-10-07,
    // Apache-2.0), as generators and validators read them.
    let oas: Value =
        serde_json::from_str(include_str!("../fixtures/openapi-3.1.schema.json")).expect("fixture");
    let oas = jsonschema::draft202012::new(&oas).expect("the OpenAPI schema");
    let problems: Vec<String> = oas.iter_errors(&document).map(|error| error.to_string()).collect();
    assert!(problems.is_empty(), "not a valid OpenAPI 3.1 document: {problems:#?}");

    let mut ids: Vec<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique, as generated clients need");

    let routes = routed();
    assert!(routes.len() > 30, "the router's routes were read: {routes:?}");
    for (method, path) in &routes {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is routed but not described");
        let problem = &operation["responses"]["default"]["content"]["application/problem+json"]["schema"];
        assert_eq!(problem["$ref"], "#/components/schemas/Problem", "{method} {path}");
        assert!(operation["operationId"].is_string(), "{method} {path}: a client needs an operation id");
    }
    let codes = &document["components"]["schemas"]["ProblemCode"]["enum"];
    for code in [ProblemCode::NotFound, ProblemCode::TooBusy, ProblemCode::UnsupportedFileType] {
        assert!(codes.as_array().expect("codes").contains(&serde_json::to_value(code).expect("code")));
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["customer_token"]["scheme"], "bearer");
    assert_eq!(schemes["agent_session"]["in"], "cookie");
}

#[tokio::test]
async fn the_frames_schema_holds_what_each_side_sends_and_refuses_what_no_side_does() {
    let app = spawn_app().await;
    let frames: Value = app
        .http
        .get(app.url("/v1/frames.schema.json"))
        .send()
        .await
        .expect("schema")
        .json()
        .await
        .expect("JSON");
    for kind in ["CustomerFrame", "CustomerEvent", "AgentFrame", "AgentEvent"] {
        assert!(frames["$defs"][kind].is_object(), "{kind}");
    }
    let validator = |kind: &str| {
        let root = json!({ "$defs": frames["$defs"].clone(), "$ref": format!("#/$defs/{kind}") });
        jsonschema::draft202012::new(&root).expect("a valid schema")
    };
    let send = CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "Hej!".into() };
    assert!(validator("CustomerFrame").is_valid(&serde_json::to_value(&send).expect("frame")));
    assert!(!validator("CustomerFrame").is_valid(&json!({ "type": "shout", "text": "Hej!" })));
    assert!(
        !validator("CustomerEvent").is_valid(&json!({ "type": "message", "message": { "text": "no seq" } }))
    );
}

#[test]
fn the_check_refuses_an_undescribed_route_status_or_body() {
    let json = Some("application/json");
    check_response(&Method::GET, "/healthz", 200, json, br#"{"status":"ok"}"#);
    let refused = [
        catch_unwind(|| check_response(&Method::GET, "/v1/nowhere", 200, json, b"{}")),
        catch_unwind(|| check_response(&Method::DELETE, "/healthz", 200, json, b"{}")),
        catch_unwind(|| check_response(&Method::POST, "/v1/conversations/c1/rating", 201, None, b"")),
        catch_unwind(|| check_response(&Method::GET, "/v1/agent/me", 200, json, br#"{"email":1}"#)),
        catch_unwind(|| check_response(&Method::GET, "/healthz", 200, Some("text/plain"), b"ok")),
        catch_unwind(|| check_response(&Method::GET, "/healthz", 200, json, br#"{"status":"ok","extra":1}"#)),
    ];
    for (case, outcome) in refused.iter().enumerate() {
        assert!(outcome.is_err(), "case {case} was let through");
    }
}
