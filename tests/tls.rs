//! TLS to the server, with real certificates and a real server: the test makes a CA
//! and a server certificate with the `openssl` command line, turns `ssl` on in this
//! binary's throwaway cluster, and shows that `sslmode=verify-full` with the right
//! root certificate connects over an encrypted session, while a certificate from
//! another CA and a wrong host name are refused with a clear error. No message
//! (errors, nor the server's log) carries the password.
//!
//! The cluster is shared by every test of this binary; this file holds only this
//! test, so it may reconfigure it.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use hurricane_db::mask_secrets;
use hurricane_db::roles::{add_user, Role};
use hurricane_db::{Db, Error};
use hurricane_db_testkit::{admin_execute, cluster, unique_name, TestDb};

const PASSWORD: &str = "Tls-Secret-42";

/// Runs `openssl` with `args` in `dir`; panics with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `openssl` ({e}): this test makes its certificates with the openssl \
                 command line; install it (Debian/Ubuntu: `apt-get install openssl`)"
            )
        });
    assert!(
        out.status.success(),
        "openssl {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Minimal request settings, so the host's openssl.cnf adds nothing of its own.
const REQ_CONFIG: &str = "\
[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
";

/// Extensions of the server certificate: valid for the DNS name `localhost` only,
/// so connecting to `127.0.0.1` is a host name the certificate does not name.
const SERVER_EXT: &str = "\
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// The files the test needs, in a private temporary folder.
struct Pki {
    _dir: tempfile::TempDir,
    ca1: PathBuf,
    ca2: PathBuf,
    server_crt: PathBuf,
    server_key: PathBuf,
}

/// CA 1 (self-signed), a server certificate for `localhost` signed by CA 1, and an
/// unrelated CA 2. EC P-256 keys, valid two days.
fn make_pki() -> Pki {
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    fs::write(d.join("req.cnf"), REQ_CONFIG).unwrap();
    fs::write(d.join("server.ext"), SERVER_EXT).unwrap();
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, subject) in [
        ("ca1", "/CN=hurricane-db test CA 1"),
        ("ca2", "/CN=hurricane-db test CA 2 (unrelated)"),
    ] {
        let (k, c) = (format!("{name}.key"), format!("{name}.crt"));
        let mut args = vec!["req", "-x509", "-config", "req.cnf"];
        args.extend(key);
        args.extend(["-keyout", &k, "-out", &c, "-days", "2", "-subj", subject]);
        openssl(d, &args);
    }
    let mut args = vec!["req", "-new", "-config", "req.cnf"];
    args.extend(key);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(d, &args);
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca1.crt",
            "-CAkey",
            "ca1.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    // The chain really is what the cases below rely on.
    openssl(d, &["verify", "-CAfile", "ca1.crt", "server.crt"]);
    Pki {
        ca1: d.join("ca1.crt"),
        ca2: d.join("ca2.crt"),
        server_crt: d.join("server.crt"),
        server_key: d.join("server.key"),
        _dir: dir,
    }
}

/// Copies the server's certificate and key into the data folder, owned by the
/// server's OS user (the folder's owner; `postgres` when we run as root), the key
/// 0600 as the server insists; then turns ssl on by a reload.
fn enable_ssl(pki: &Pki) {
    let c = cluster();
    let data = c.dir().join("data");
    let owner = fs::metadata(&data).expect("the cluster's data folder");
    for (src, name) in [
        (&pki.server_crt, "server.crt"),
        (&pki.server_key, "server.key"),
    ] {
        let dst = data.join(name);
        fs::copy(src, &dst).unwrap_or_else(|e| panic!("copy to {}: {e}", dst.display()));
        std::os::unix::fs::chown(&dst, Some(owner.uid()), Some(owner.gid()))
            .unwrap_or_else(|e| panic!("chown {}: {e}", dst.display()));
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o600)).unwrap();
    }
    for sql in [
        "ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'server.key'",
        "ALTER SYSTEM SET ssl = on",
        "SELECT pg_reload_conf()",
    ] {
        admin_execute(c, sql);
    }

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        ssl: String,
    }
    // The reload is signalled; the new setting is seen by sessions started after
    // the postmaster has processed it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s: Setting = diesel::sql_query("SHOW ssl")
            .get_result(&mut PgConnection::establish(&c.url("postgres")).unwrap())
            .unwrap();
        if s.ssl == "on" {
            break;
        }
        if Instant::now() > deadline {
            let log = fs::read_to_string(c.dir().join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            panic!("ssl is still off after the reload; server log (newest first): {tail:#?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(QueryableByName, Debug)]
struct SslSession {
    #[diesel(sql_type = Bool)]
    ssl: bool,
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    cipher: Option<String>,
}

/// What the server says about the TLS of the pooled session it serves.
fn session_ssl(db: &Db) -> SslSession {
    db.read_statement(|conn| {
        Ok(diesel::sql_query(
            "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .get_result::<SslSession>(conn)?)
    })
    .expect("query pg_stat_ssl")
}

fn encode(path: &Path) -> String {
    path.to_str()
        .expect("UTF-8 temporary path")
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One attempt: prints the masked URL, the outcome and the time, and returns it.
fn attempt(case: &str, url: &str) -> Result<Db, Error> {
    let started = Instant::now();
    let result = Db::builder()
        .connect_timeout(Duration::from_secs(3))
        .connect(url);
    let ms = started.elapsed().as_millis();
    match &result {
        Ok(_) => println!("{case}: {} -> ok ({ms} ms)", mask_secrets(url)),
        Err(e) => println!("{case}: {} -> error ({ms} ms): {e}", mask_secrets(url)),
    }
    result
}

/// The refusal must be a connection error, say `expected`, come within the
/// timeout, and carry no password in its message or its debug form.
fn assert_refused(case: &str, result: Result<Db, Error>, expected: &str) -> String {
    let e = match result {
        Ok(db) => panic!(
            "{case}: connected, expected a refusal; server {}",
            db.server()
        ),
        Err(e) => e,
    };
    let text = e.to_string();
    assert!(
        matches!(e, Error::Connection(_)),
        "{case}: expected Error::Connection, got {e:?}"
    );
    assert!(
        text.contains(expected),
        "{case}: expected {expected:?} in: {text}"
    );
    for shown in [&text, &format!("{e:?}")] {
        assert!(!shown.contains(PASSWORD), "{case}: password in {shown}");
    }
    assert!(
        text.contains(":***@"),
        "{case}: the URL is named, masked: {text}"
    );
    text
}

#[test]
fn verify_full_connects_and_refuses_other_ca_and_wrong_host() {
    let pki = make_pki();
    enable_ssl(&pki);

    let t = TestDb::new();
    let user = unique_name("tls_reader");
    add_user(&mut t.connect(), &user, Role::Reader, PASSWORD).unwrap();
    let port = cluster().port();
    let (ca1, ca2) = (encode(&pki.ca1), encode(&pki.ca2));
    // `hostaddr` pins the address (the server listens on 127.0.0.1 only, and some
    // hosts resolve localhost to ::1 first); libpq still checks the certificate
    // against `localhost`, the host name in the URL.
    let at_localhost = format!(
        "postgresql://{user}:{PASSWORD}@localhost:{port}/{}?hostaddr=127.0.0.1",
        t.name
    );
    let at_ip = format!(
        "postgresql://{user}:{PASSWORD}@127.0.0.1:{port}/{}?",
        t.name
    );

    // 1. The right CA and the name in the certificate: connects, encrypted.
    let db = attempt(
        "verify-full, CA 1, localhost",
        &format!("{at_localhost}&sslmode=verify-full&sslrootcert={ca1}"),
    )
    .unwrap_or_else(|e| panic!("verify-full with the right CA: {e}"));
    let s = session_ssl(&db);
    println!(
        "  session: ssl={} version={} cipher={}",
        s.ssl,
        s.version.as_deref().unwrap_or("-"),
        s.cipher.as_deref().unwrap_or("-")
    );
    assert!(s.ssl, "the verified session is not encrypted: {s:?}");
    assert!(
        db.server().contains(":***@") && !db.server().contains(PASSWORD),
        "{}",
        db.server()
    );
    drop(db);

    // 2. A certificate from another CA: refused before any password is sent.
    let other_ca = attempt(
        "verify-full, CA 2, localhost",
        &format!("{at_localhost}&sslmode=verify-full&sslrootcert={ca2}"),
    );
    assert_refused("other CA", other_ca, "certificate verify failed");

    // 3. The right CA, but a host name the certificate does not name.
    let wrong_host = attempt(
        "verify-full, CA 1, 127.0.0.1",
        &format!("{at_ip}sslmode=verify-full&sslrootcert={ca1}"),
    );
    // libpq 15 says `server certificate for "localhost" (and 1 other name) does not
    // match host name "127.0.0.1"` (the other name is the subject's CN).
    let text = assert_refused(
        "wrong host",
        wrong_host,
        "does not match host name \"127.0.0.1\"",
    );
    assert!(
        text.contains("server certificate for \"localhost\""),
        "wrong host: the certificate's name is given: {text}"
    );

    // 4. sslmode=require with no root certificate: encrypted, not verified.
    let db = attempt("require, no root cert", &format!("{at_ip}sslmode=require"))
        .unwrap_or_else(|e| panic!("sslmode=require: {e}"));
    let s = session_ssl(&db);
    println!("  session: ssl={}", s.ssl);
    assert!(s.ssl, "sslmode=require gave a plain session: {s:?}");
    drop(db);

    // 5. Control: sslmode=disable connects in clear, and pg_stat_ssl says so, so
    // the checks above are not vacuous.
    let db = attempt("disable", &format!("{at_ip}sslmode=disable"))
        .unwrap_or_else(|e| panic!("sslmode=disable: {e}"));
    let s = session_ssl(&db);
    println!("  session: ssl={}", s.ssl);
    assert!(!s.ssl, "sslmode=disable gave an encrypted session: {s:?}");
    drop(db);

    // Nor has the server logged the password (the refused attempts never sent it).
    let log = fs::read_to_string(cluster().dir().join("server.log")).unwrap_or_default();
    assert!(!log.contains(PASSWORD), "the server log holds the password");
}
