//! What the service's tests and its benchmark share: the router served in this
//! process on 127.0.0.1:0, and an HTTP client for it.

use std::time::Duration;

use hurricane_db::Db;

/// The service's router on a port of its own; stops when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Answers every status as a response (checking statuses is the caller's job),
    /// never goes through an HTTP_PROXY of the environment, gives up after 30 s.
    pub agent: ureq::Agent,
    // Dropping the runtime stops the server.
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Serves `db` as `hurricane_db_service::serve` does: TCP_NODELAY on every
    /// connection.
    pub fn start(db: Db) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        runtime.spawn(async move { axum::serve(listener, hurricane_db_service::router(db)).await });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Server {
            base,
            agent,
            _runtime: runtime,
        }
    }
}
