//! The CDC IIS SOAP web service (`urn:cdc:iisb:2011`, SOAP 1.2) at `POST /soap`, its WSDL at
//! `GET /soap?wsdl`.
//!
//! `submitSingleMessage` carries `username` and `password` (a registered client's id and
//! secret, see [`super::credentials`]), `facilityID` (when given, the sender's facility
//! identifier) and `hl7Message`; it answers `return` with the ACK or RSP. `connectivityTest`
//! echoes `echoBack`. Faults are the WSDL's: `SecurityFault` (credentials refused, a facility
//! that is not the client's organization's), `MessageTooLargeFault` (a message over
//! [`MAX_MESSAGE_BYTES`]) and `UnknownFault` (anything else, a database that cannot be reached
//! included), each a SOAP 1.2 `Fault` whose `Detail` holds the CDC fault element.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;

use super::credentials::CredentialError;
use super::{process, Hl7Failure};
use crate::app::AppState;

/// The CDC service's namespace.
pub const NS: &str = "urn:cdc:iisb:2011";
const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The largest HL7 message `submitSingleMessage` accepts (`MessageTooLargeFault` beyond).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

const WSDL: &str = include_str!("cdc-iis-2011.wsdl");

/// A fault of the CDC WSDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Security,
    MessageTooLarge,
    Unknown,
}

impl Fault {
    fn element(self) -> &'static str {
        match self {
            Fault::Security => "SecurityFault",
            Fault::MessageTooLarge => "MessageTooLargeFault",
            Fault::Unknown => "fault",
        }
    }
    fn code(self) -> u32 {
        match self {
            Fault::Security => 10,
            Fault::MessageTooLarge => 20,
            Fault::Unknown => 90,
        }
    }
    fn reason(self) -> &'static str {
        match self {
            Fault::Security => "Security",
            Fault::MessageTooLarge => "Message Too Large",
            Fault::Unknown => "Unknown Fault",
        }
    }
    /// SOAP 1.2 fault code: what the sender must change, or the receiver's failure.
    fn soap_code(self) -> &'static str {
        match self {
            Fault::Security | Fault::MessageTooLarge => "soap:Sender",
            Fault::Unknown => "soap:Receiver",
        }
    }
}

/// Escapes text for XML element content.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soap:Envelope xmlns:soap=\"{SOAP12}\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

fn soap_response(status: StatusCode, xml: String) -> Response {
    let mut resp = (status, xml).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/soap+xml; charset=utf-8"),
    );
    resp
}

/// A SOAP 1.2 fault carrying the CDC fault element.
pub fn fault(kind: Fault, detail: &str) -> Response {
    let body = format!(
        "<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>\
<soap:Reason><soap:Text xml:lang=\"en\">{reason}</soap:Text></soap:Reason>\
<soap:Detail><{el} xmlns=\"{NS}\"><Code>{n}</Code><Reason>{reason}</Reason><Detail>{detail}</Detail></{el}></soap:Detail>\
</soap:Fault>",
        code = kind.soap_code(),
        reason = kind.reason(),
        el = kind.element(),
        n = kind.code(),
        detail = xml_escape(detail),
    );
    soap_response(StatusCode::INTERNAL_SERVER_ERROR, envelope(&body))
}

fn answer(operation: &str, value: &str) -> Response {
    soap_response(
        StatusCode::OK,
        envelope(&format!(
            "<{operation}Response xmlns=\"{NS}\"><return>{}</return></{operation}Response>",
            xml_escape(value)
        )),
    )
}

/// `GET /soap?wsdl`: the WSDL, its address this server as the client reached it.
pub async fn get_wsdl(
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if !params.contains_key("wsdl") && !params.contains_key("WSDL") {
        return (StatusCode::NOT_FOUND, "ask for /soap?wsdl").into_response();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let wsdl = WSDL.replace("{{LOCATION}}", &format!("http://{host}/soap"));
    let mut resp = (StatusCode::OK, wsdl).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    resp
}

/// The operation and its parameters (by local name) of a SOAP request.
struct Call {
    operation: String,
    params: HashMap<String, String>,
}

fn parse_call(xml: &str) -> Result<Call, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|_| "the request is not XML".to_owned())?;
    let root = doc.root_element();
    let env_ns = root.tag_name().namespace().unwrap_or("");
    if root.tag_name().name() != "Envelope" || !(env_ns == SOAP12 || env_ns == SOAP11) {
        return Err("the request is not a SOAP envelope".into());
    }
    let body = root
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")
        .ok_or("the envelope has no Body")?;
    let op = body
        .children()
        .find(|n| n.is_element())
        .ok_or("the Body names no operation")?;
    if op.tag_name().namespace() != Some(NS) {
        return Err(format!("the operation is not of {NS}"));
    }
    let mut params = HashMap::new();
    for child in op.children().filter(|n| n.is_element()) {
        let text: String = child
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect();
        params.insert(child.tag_name().name().to_owned(), text);
    }
    Ok(Call {
        operation: op.tag_name().name().to_owned(),
        params,
    })
}

/// `POST /soap`.
pub async fn post_soap(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let Ok(xml) = std::str::from_utf8(&body) else {
        return fault(Fault::Unknown, "the request is not UTF-8");
    };
    let call = match parse_call(xml) {
        Ok(c) => c,
        Err(why) => return fault(Fault::Unknown, &why),
    };
    let param = |name: &str| call.params.get(name).map(String::as_str).unwrap_or("");
    match call.operation.as_str() {
        "connectivityTest" => answer("connectivityTest", param("echoBack")),
        "submitSingleMessage" => {
            let message = param("hl7Message");
            if message.len() > MAX_MESSAGE_BYTES {
                return fault(
                    Fault::MessageTooLarge,
                    &format!(
                        "the message has {} bytes; at most {MAX_MESSAGE_BYTES} are accepted",
                        message.len()
                    ),
                );
            }
            let principal = match state
                .hl7_credentials
                .principal(
                    state.auth.clients(),
                    &state.store,
                    param("username"),
                    param("password"),
                    peer.ip(),
                )
                .await
            {
                Ok(p) => p,
                Err(CredentialError::Invalid) => {
                    return fault(Fault::Security, "the username or password is not valid")
                }
                Err(CredentialError::Throttled) => {
                    return fault(Fault::Security, "too many attempts; retry later")
                }
                Err(CredentialError::Unavailable) => {
                    return fault(Fault::Unknown, "the registry is unavailable; try again")
                }
            };
            let facility = param("facilityID").trim();
            if !facility.is_empty() {
                let own = match principal.org {
                    Some(org) => match state.store.facility_ids(&[org]).await {
                        Ok(mut ids) => ids.remove(&org),
                        Err(_) => {
                            return fault(Fault::Unknown, "the registry is unavailable; try again")
                        }
                    },
                    None => None,
                };
                if principal.org.is_some() && own.as_deref() != Some(facility) {
                    return fault(
                        Fault::Security,
                        "facilityID is not the facility of the authenticated organization",
                    );
                }
            }
            // Line breaks in the XML text stand for segment terminators.
            let text = message.replace("\r\n", "\r").replace('\n', "\r");
            let request_id = uuid::Uuid::new_v4().to_string();
            match process(&state, principal, &text, request_id).await {
                Ok(a) => answer("submitSingleMessage", &a.text),
                Err(Hl7Failure::Unavailable) => {
                    state.store.report_unavailable();
                    fault(Fault::Unknown, "the registry is unavailable; try again")
                }
                Err(Hl7Failure::Internal) => {
                    fault(Fault::Unknown, "the message could not be processed")
                }
            }
        }
        other => fault(
            Fault::Unknown,
            &format!(
                "unsupported operation `{}`",
                other.chars().take(64).collect::<String>()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_soap12_call_and_escapes_answers() {
        let call = parse_call(&format!(
            "<s:Envelope xmlns:s=\"{SOAP12}\"><s:Body><c:submitSingleMessage xmlns:c=\"{NS}\">\
<c:username>u</c:username><c:password>p&amp;q</c:password><c:hl7Message>MSH|^~\\&amp;|</c:hl7Message>\
</c:submitSingleMessage></s:Body></s:Envelope>"
        ))
        .expect("call");
        assert_eq!(call.operation, "submitSingleMessage");
        assert_eq!(call.params["password"], "p&q");
        assert_eq!(call.params["hl7Message"], "MSH|^~\\&|");
        assert_eq!(xml_escape("a<b>&\rc"), "a&lt;b&gt;&amp;&#13;c");
        assert!(parse_call("<x/>").is_err());
        assert!(parse_call("not xml").is_err());
    }
}
