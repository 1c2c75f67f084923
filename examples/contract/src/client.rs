use serde_json::Value;
use ureq::Agent;

/// A plain-HTTP client for one server.
pub struct Client {
    agent: Agent,
    base: String,
}

/// A response: status, headers, JSON body (`null` when empty, a string when not JSON).
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Value,
    headers: Vec<(String, String)>,
}

impl Reply {
    /// A header's value, by name in any case.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    }

    /// Every value of a header (`set-cookie` comes once per cookie).
    pub fn headers_named(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// A string field of the body.
    pub fn text(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field:?} in {}", self.body))
            .to_owned()
    }
}

impl Client {
    /// A client of the server at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            agent,
            base: base.to_owned(),
        }
    }

    /// `GET path`, with a bearer token if given.
    pub fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        let request = with_bearer(self.agent.get(format!("{}{path}", self.base)), bearer);
        reply(request.call())
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, bearer: Option<&str>, body: &Value) -> Reply {
        let request = with_bearer(self.agent.post(format!("{}{path}", self.base)), bearer);
        reply(request.send_json(body))
    }

    /// `POST path` with no body.
    pub fn post_empty(&self, path: &str, bearer: Option<&str>) -> Reply {
        let request = with_bearer(self.agent.post(format!("{}{path}", self.base)), bearer);
        reply(request.send_empty())
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(&self, path: &str, bearer: Option<&str>, body: &Value) -> Reply {
        let request = with_bearer(self.agent.patch(format!("{}{path}", self.base)), bearer);
        reply(request.send_json(body))
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str, bearer: Option<&str>) -> Reply {
        let request = with_bearer(self.agent.delete(format!("{}{path}", self.base)), bearer);
        reply(request.call())
    }

    /// `POST path` with raw body bytes.
    pub fn post_raw(&self, path: &str, body: &[u8]) -> Reply {
        let request = self.agent.post(format!("{}{path}", self.base));
        reply(request.content_type("application/json").send(body))
    }

    /// Any request with these headers and, if given, a raw JSON body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let typed = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !typed {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(body.unwrap_or_default().to_vec()).unwrap();
        reply(self.agent.run(request))
    }

    /// `POST /auth/login` with extra headers.
    pub fn login(&self, (username, password): (&str, &str), headers: &[(&str, &str)]) -> Reply {
        let mut request = self.agent.post(format!("{}/auth/login", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        reply(request.send_json(serde_json::json!({"username": username, "password": password})))
    }
}

/// Adds `Authorization: Bearer <token>` when a token is given.
fn with_bearer<B>(
    request: ureq::RequestBuilder<B>,
    bearer: Option<&str>,
) -> ureq::RequestBuilder<B> {
    match bearer {
        Some(token) => request.header("Authorization", format!("Bearer {token}")),
        None => request,
    }
}

fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = result.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        body,
        headers,
    }
}
