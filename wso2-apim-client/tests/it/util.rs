//! APIM-specific test helpers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::MockServer;
use wso2_apim_client::ApimClient;
use wso2_is_client::{Clock, RetryPolicy};

/// A clock that never sleeps and records what it was asked to wait.
#[derive(Debug, Default, Clone)]
pub struct RecordingClock(pub Arc<Mutex<Vec<Duration>>>);

impl Clock for RecordingClock {
    fn sleep(
        &self,
        d: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        self.0.lock().unwrap().push(d);
        Box::pin(async {})
    }
}

/// An APIM client of the mock server (same credentials as the identity client's tests).
pub fn apim(server: &MockServer) -> ApimClient {
    apim_with_clock(server, RecordingClock::default())
}

pub fn apim_with_clock(server: &MockServer, clock: RecordingClock) -> ApimClient {
    ApimClient::builder(server.uri())
        .credentials("admin", "admin-canary-password")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .clock(Arc::new(clock))
        .build()
        .unwrap()
}

/// `<ns:return>` holding a service provider, as the server writes it.
pub fn sp_return(sp: &wso2_is_client::model::ServiceProvider) -> String {
    use wso2_is_client::carbon::xml::{ns, to_element};
    to_element(sp, ns::MODEL, "return")
        .unwrap()
        .replacen("<model:return", "<ns:return", 1)
        .replace("</model:return>", "</ns:return>")
}
