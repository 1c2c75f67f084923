//! Issue 14 over HTTP: `/openapi.json` is a valid OpenAPI 3.1 document naming every route
//! of SPEC §6 and of the example server, and every error code.

use trusted_devices_core::Error;
use trusted_devices_core::http::Endpoint;

use crate::{Client, Server};

/// The OpenAPI Initiative's schema of OpenAPI 3.1 documents (vendored with its licence).
const OPENAPI_31_SCHEMA: &str = include_str!("../openapi-3.1/schema.json");

/// SPEC §6: "The OpenAPI document validates against the OpenAPI 3.1 schema", every error
/// listed.
pub(crate) fn validate_against_the_official_schema(document: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(OPENAPI_31_SCHEMA).expect("the vendored schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the vendored schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "/openapi.json is not valid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );
}

/// Fetches the document, validates it against the official OpenAPI 3.1 schema, parses it
/// as OpenAPI 3.1, and looks for every route and code.
pub fn openapi_document(binary: &str) {
    let server = Server::start(binary, &[]);
    let client = Client::new(&server.base);
    let reply = client.get("/openapi.json", None);
    assert_eq!(reply.status, 200);
    validate_against_the_official_schema(&reply.body);
    let text = serde_json::to_string(&reply.body).unwrap_or_default();
    let spec = oas3::from_json(&text).unwrap_or_else(|error| panic!("not OpenAPI 3.1: {error}"));
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    let paths = spec.paths.unwrap_or_default();
    let own = [
        ("POST", "/auth/login"),
        ("GET", "/me"),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
    ];
    let library = Endpoint::ALL.iter().map(|e| (e.method(), e.path()));
    for (method, path) in library.chain(own) {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing"));
        let operation = match method {
            "GET" => item.get.as_ref(),
            "POST" => item.post.as_ref(),
            "PATCH" => item.patch.as_ref(),
            "DELETE" => item.delete.as_ref(),
            _ => None,
        };
        assert!(operation.is_some(), "{method} {path} is missing");
    }
    let codes = &reply.body["components"]["schemas"]["ErrorCode"]["enum"];
    for (code, status) in Error::CODES {
        assert!(
            codes
                .as_array()
                .is_some_and(|codes| codes.iter().any(|c| c == code)),
            "{code} is not among the documented codes"
        );
        assert!(
            text.contains(&format!("\"{status}\"")),
            "no {status} response for {code}"
        );
    }
    for schema in [
        "DeviceView",
        "TokenPair",
        "Problem",
        "PatchBody",
        "ActivityView",
        "LoginBody",
        "Me",
    ] {
        assert!(
            reply.body["components"]["schemas"][schema].is_object(),
            "{schema} is missing"
        );
    }
    // SPEC §9: the DPoP scheme, header and answers are documented.
    assert!(
        reply.body["components"]["securitySchemes"]["dpop"].is_object(),
        "no DPoP security scheme"
    );
    let me = &reply.body["paths"]["/devices"]["get"];
    let documents_dpop_header = me["parameters"]
        .as_array()
        .is_some_and(|parameters| parameters.iter().any(|p| p["name"] == "DPoP"));
    assert!(
        documents_dpop_header,
        "GET /devices does not document the DPoP header"
    );
    assert!(
        text.contains("dpop_invalid"),
        "dpop_invalid is not documented"
    );
}
