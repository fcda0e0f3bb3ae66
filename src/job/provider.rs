//! Where the throwaway databases come from. A provider is started once per
//! run; each environment then gets a fresh database of its own from it, and
//! every database, cluster and container is registered with the janitor
//! before it exists.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::cleanup::{Cleanup, CleanupId, Janitor};
use super::helper::{Helper, HelperError};
use super::protocol::{CreatedDatabase, Request};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    /// A temporary SQLite file (the default: nothing to install).
    Sqlite,
    /// An existing PostgreSQL or MySQL/MariaDB server: alembot creates and
    /// drops its own uniquely named databases there.
    Server(String),
    /// A private PostgreSQL cluster (`initdb` in a temporary directory).
    PostgresEphemeral,
    /// A database container started from an image.
    Docker(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "`{0}` is not a database provider\n  help: use `sqlite`, `postgres-ephemeral`, `docker:IMAGE` (e.g. docker:postgres:16) or a server URL such as postgresql://user@localhost:5432/postgres"
    )]
    Unknown(String),
    #[error(
        "`{0}` names a SQLite file: alembot never writes to a database it did not create\n  help: use `--database sqlite` for a throwaway SQLite database"
    )]
    ExistingSqlite(String),
    #[error("{message}\n  help: {help}")]
    Unavailable { message: String, help: String },
    #[error(transparent)]
    Helper(#[from] HelperError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl FromStr for ProviderSpec {
    type Err = ProviderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "sqlite" => return Ok(ProviderSpec::Sqlite),
            "postgres-ephemeral" | "postgresql-ephemeral" => {
                return Ok(ProviderSpec::PostgresEphemeral);
            }
            _ => {}
        }
        if let Some(image) = s.strip_prefix("docker:") {
            if image.is_empty() {
                return Err(ProviderError::Unknown(s.to_string()));
            }
            return Ok(ProviderSpec::Docker(image.to_string()));
        }
        let scheme = s.split("://").next().unwrap_or("");
        let base = scheme.split('+').next().unwrap_or("");
        match base {
            "postgresql" | "postgres" | "mysql" | "mariadb" if s.contains("://") => {
                // Its password is hidden wherever it shows up later, in
                // whatever text a driver wraps it.
                crate::redact::register_url(s);
                Ok(ProviderSpec::Server(s.to_string()))
            }
            "sqlite" => Err(ProviderError::ExistingSqlite(redact_url(s))),
            _ => Err(ProviderError::Unknown(redact_url(s))),
        }
    }
}

impl fmt::Display for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSpec::Sqlite => f.write_str("sqlite"),
            ProviderSpec::Server(url) => f.write_str(&redact_url(url)),
            ProviderSpec::PostgresEphemeral => f.write_str("postgres-ephemeral"),
            ProviderSpec::Docker(image) => write!(f, "docker:{image}"),
        }
    }
}

/// `scheme://user:***@host/db`: passwords (in every form
/// [`crate::redact`] knows) never reach output.
pub fn redact_url(url: &str) -> String {
    crate::redact::redact(url).into_owned()
}

/// A started provider.
pub struct Server {
    kind: Kind,
    /// For messages: `sqlite`, `postgresql://u:***@h/`, `postgres-ephemeral (PostgreSQL 15)`.
    pub shown: String,
}

enum Kind {
    Sqlite(PathBuf),
    /// A server URL databases are created on.
    Admin(String),
}

/// One environment's throwaway database.
pub struct Database {
    /// The full URL, with credentials: passed to the helper on stdin only.
    pub url: String,
    pub shown: String,
    pub cleanup: CleanupId,
}

/// Where one environment's checks run.
pub enum Target {
    /// A database that exists (a SQLite file): the helper gets its URL.
    Ready(Database),
    /// A database the helper creates on the server before its checks and
    /// drops after them, in the same process (two Python start-ups fewer
    /// than separate calls). Its drop is registered with the janitor
    /// first, for when the helper dies or is stopped before it drops it.
    OnServer {
        server_url: String,
        name: String,
        shown: String,
        cleanup: CleanupId,
    },
}

/// A database name nobody else would use, and that the helper agrees to drop.
pub fn unique_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..12)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("alembot_{suffix}")
}

impl Server {
    pub async fn start(
        spec: &ProviderSpec,
        janitor: &Janitor,
        helper: &Helper,
        run_id: &str,
    ) -> Result<Server, ProviderError> {
        match spec {
            ProviderSpec::Sqlite => {
                let dir = temp_dir("alembot-sqlite-", std::env::temp_dir())?;
                janitor.register(Cleanup::RemoveDir(dir.clone()));
                Ok(Server {
                    kind: Kind::Sqlite(dir),
                    shown: "sqlite".into(),
                })
            }
            ProviderSpec::Server(url) => Ok(Server {
                kind: Kind::Admin(url.clone()),
                shown: redact_url(url),
            }),
            ProviderSpec::PostgresEphemeral => start_cluster(janitor).await,
            ProviderSpec::Docker(image) => start_container(image, janitor, helper, run_id).await,
        }
    }

    /// Where one environment's checks run: on a server, a database the
    /// helper creates itself; otherwise a fresh database made here.
    pub async fn target(
        &self,
        janitor: &Janitor,
        helper: &Helper,
    ) -> Result<Target, ProviderError> {
        match &self.kind {
            Kind::Admin(server_url) => {
                let name = unique_name();
                let cleanup = janitor.register(Cleanup::DropDatabase {
                    server_url: server_url.clone(),
                    name: name.clone(),
                });
                Ok(Target::OnServer {
                    server_url: server_url.clone(),
                    shown: format!("{} ({name})", redact_url(server_url)),
                    name,
                    cleanup,
                })
            }
            Kind::Sqlite(_) => Ok(Target::Ready(self.database(janitor, helper).await?)),
        }
    }

    /// A fresh, empty database for one environment.
    pub async fn database(
        &self,
        janitor: &Janitor,
        helper: &Helper,
    ) -> Result<Database, ProviderError> {
        match &self.kind {
            Kind::Sqlite(dir) => {
                let path = dir.join(format!("{}.sqlite", unique_name()));
                let cleanup = janitor.register(Cleanup::RemoveSqlite(path.clone()));
                Ok(Database {
                    url: format!("sqlite:///{}", path.display()),
                    shown: "sqlite (temporary file)".into(),
                    cleanup,
                })
            }
            Kind::Admin(server_url) => {
                let name = unique_name();
                // Registered first: an interrupt during CREATE still drops it.
                let cleanup = janitor.register(Cleanup::DropDatabase {
                    server_url: server_url.clone(),
                    name: name.clone(),
                });
                let created = create_database(helper, server_url, &name).await?;
                Ok(Database {
                    url: created.secret_database_url.unwrap_or_default(),
                    shown: created
                        .database_url_redacted
                        .unwrap_or_else(|| format!("{} ({name})", redact_url(server_url))),
                    cleanup,
                })
            }
        }
    }
}

async fn create_database(
    helper: &Helper,
    server_url: &str,
    name: &str,
) -> Result<CreatedDatabase, ProviderError> {
    let request = Request {
        action: "create-database",
        server_url: Some(server_url.to_string()),
        name: Some(name.to_string()),
        ..Request::default()
    };
    let map = helper.call(&request, None, &|_| {}).await?;
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
        ProviderError::Helper(HelperError::Internal {
            message: format!("unexpected create-database result: {e}"),
            stderr: Vec::new(),
        })
    })
}

/// A new directory under `base` that the janitor removes.
fn temp_dir(prefix: &str, base: PathBuf) -> Result<PathBuf, ProviderError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base)
        .map(tempfile::TempDir::keep)
        .map_err(|source| ProviderError::Io {
            context: "creating a temporary directory".into(),
            source,
        })
}

/// Where a PostgreSQL cluster's directory goes: its unix socket path must
/// stay under ~100 bytes, so `/tmp` rather than a deep `$TMPDIR`. Nothing
/// else needs this: SQLite files honour `$TMPDIR`.
fn short_temp_base() -> PathBuf {
    if cfg!(unix) && Path::new("/tmp").is_dir() {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    }
}

/// PostgreSQL's server programs: `pg_config --bindir`, else PATH.
fn postgres_bindir() -> Option<PathBuf> {
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Some(dir);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    })
}

/// `initdb` refuses to run as root; when alembot is root (containers, CI
/// images) the cluster runs as `postgres` (or `nobody`).
#[cfg(unix)]
fn cluster_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in ["postgres", "nobody"] {
        let Ok(cname) = std::ffi::CString::new(name) else {
            continue;
        };
        // SAFETY: getpwnam reads a static buffer; the fields are copied out
        // at once, before any other call could overwrite it.
        let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
        if !pw.is_null() {
            // SAFETY: pw was checked non-null above.
            let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
            return Some((uid, gid));
        }
    }
    None
}

#[cfg(not(unix))]
fn cluster_user() -> Option<(u32, u32)> {
    None
}

async fn run_as(
    program: &Path,
    args: &[&std::ffi::OsStr],
    user: Option<(u32, u32)>,
) -> Result<std::process::Output, std::io::Error> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    #[cfg(unix)]
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd.output().await
}

async fn start_cluster(janitor: &Janitor) -> Result<Server, ProviderError> {
    let bindir = postgres_bindir().ok_or_else(|| ProviderError::Unavailable {
        message: "postgres-ephemeral needs PostgreSQL's server programs (initdb, pg_ctl), and neither `pg_config --bindir` nor PATH has them".into(),
        help: "install the PostgreSQL server package (e.g. `apt-get install postgresql`), or use `--database sqlite` or a server URL".into(),
    })?;
    let dir = temp_dir("alembot-pg-", short_temp_base())?;
    janitor.register(Cleanup::RemoveDir(dir.clone()));
    let user = cluster_user();
    #[cfg(unix)]
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|source| {
            ProviderError::Io {
                context: format!("giving {} to the cluster's user", dir.display()),
                source,
            }
        })?;
    }
    let data = dir.join("data");
    let initdb = bindir.join("initdb");
    let out = run_as(
        &initdb,
        &[
            "-D".as_ref(),
            data.as_os_str(),
            "-U".as_ref(),
            "postgres".as_ref(),
            "--auth=trust".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
            "--locale=C".as_ref(),
            "--no-sync".as_ref(),
        ],
        user,
    )
    .await
    .map_err(|source| ProviderError::Io {
        context: format!("running {}", initdb.display()),
        source,
    })?;
    if !out.status.success() {
        return Err(ProviderError::Unavailable {
            message: format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            help:
                "check that the PostgreSQL server programs work, or use another --database provider"
                    .into(),
        });
    }
    let pg_ctl = bindir.join("pg_ctl");
    janitor.register(Cleanup::StopCluster {
        pg_ctl: pg_ctl.clone(),
        data_dir: data.clone(),
        as_user: user,
    });
    let options = format!(
        "-k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    let log = dir.join("server.log");
    let out = run_as(
        &pg_ctl,
        &[
            "-D".as_ref(),
            data.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "-o".as_ref(),
            options.as_ref(),
            "start".as_ref(),
        ],
        user,
    )
    .await
    .map_err(|source| ProviderError::Io {
        context: format!("running {}", pg_ctl.display()),
        source,
    })?;
    if !out.status.success() {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(ProviderError::Unavailable {
            message: format!(
                "the ephemeral PostgreSQL cluster did not start: {}{}",
                String::from_utf8_lossy(&out.stderr).trim(),
                log_text
                    .lines()
                    .last()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default()
            ),
            help: "use another --database provider".into(),
        });
    }
    Ok(Server {
        kind: Kind::Admin(format!(
            "postgresql://postgres@/postgres?host={}",
            dir.display()
        )),
        shown: "postgres-ephemeral".into(),
    })
}

/// Default ports and URLs of the images alembot knows how to start.
fn image_profile(image: &str) -> Option<(u16, Vec<String>, &'static str)> {
    let name = image
        .rsplit('/')
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    if ["postgres", "postgis", "timescale", "pgvector"]
        .iter()
        .any(|k| name.contains(k))
    {
        Some((
            5432,
            vec!["-e".into(), "POSTGRES_PASSWORD=alembot".into()],
            "postgresql://postgres:alembot@127.0.0.1:{port}/postgres",
        ))
    } else if ["mysql", "mariadb", "percona"]
        .iter()
        .any(|k| name.contains(k))
    {
        Some((
            3306,
            vec![
                "-e".into(),
                "MYSQL_ROOT_PASSWORD=alembot".into(),
                "-e".into(),
                "MARIADB_ROOT_PASSWORD=alembot".into(),
            ],
            "mysql://root:alembot@127.0.0.1:{port}/",
        ))
    } else {
        None
    }
}

/// Whether a Docker engine answers (`docker version` reaches a server).
pub async fn docker_available() -> Result<(), String> {
    match tokio::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .output()
        .await
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn start_container(
    image: &str,
    janitor: &Janitor,
    helper: &Helper,
    run_id: &str,
) -> Result<Server, ProviderError> {
    let (port, env, url_template) = image_profile(image).ok_or_else(|| ProviderError::Unavailable {
        message: format!("alembot does not know how to start `{image}`"),
        help: "use a postgres, mysql or mariadb image (e.g. docker:postgres:16), or start the server yourself and pass its URL".into(),
    })?;
    docker_available().await.map_err(|reason| ProviderError::Unavailable {
        message: format!("no Docker engine is reachable ({reason})"),
        help: "start Docker, or use `--database postgres-ephemeral`, `--database sqlite` or a server URL".into(),
    })?;
    let mut args: Vec<String> = vec![
        "run".into(),
        "-d".into(),
        "--label".into(),
        "alembot=1".into(),
        "--label".into(),
        format!("alembot.run={run_id}"),
        "-p".into(),
        format!("127.0.0.1::{port}"),
    ];
    args.extend(env);
    args.push(image.to_string());
    let out = tokio::process::Command::new("docker")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|source| ProviderError::Io {
            context: "running docker".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(ProviderError::Unavailable {
            message: format!(
                "docker could not start {image}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            help: "pull the image first, or use another --database provider".into(),
        });
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    janitor.register(Cleanup::RemoveContainer { id: id.clone() });
    let out = tokio::process::Command::new("docker")
        .args(["port", &id, &format!("{port}/tcp")])
        .output()
        .await
        .map_err(|source| ProviderError::Io {
            context: "running docker port".into(),
            source,
        })?;
    let mapped = String::from_utf8_lossy(&out.stdout);
    let host_port = mapped
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let url = url_template.replace("{port}", &host_port);
    // The image needs a while before it accepts connections: try to create
    // and drop a probe database until it answers (at most a minute).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let probe = unique_name();
        let cleanup = janitor.register(Cleanup::DropDatabase {
            server_url: url.clone(),
            name: probe.clone(),
        });
        match create_database(helper, &url, &probe).await {
            Ok(_) => {
                janitor.run(cleanup).await;
                break;
            }
            Err(ProviderError::Helper(HelperError::Connection { .. }))
                if Instant::now() < deadline =>
            {
                janitor.forget(cleanup);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Server {
        kind: Kind::Admin(url),
        shown: format!("docker:{image}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse() {
        assert_eq!(
            "sqlite".parse::<ProviderSpec>().unwrap(),
            ProviderSpec::Sqlite
        );
        assert_eq!(
            "postgres-ephemeral".parse::<ProviderSpec>().unwrap(),
            ProviderSpec::PostgresEphemeral
        );
        assert_eq!(
            "docker:postgres:16".parse::<ProviderSpec>().unwrap(),
            ProviderSpec::Docker("postgres:16".into())
        );
        assert!(matches!(
            "postgresql+psycopg://u:p@h/db"
                .parse::<ProviderSpec>()
                .unwrap(),
            ProviderSpec::Server(_)
        ));
        assert!(matches!(
            "mysql://root@127.0.0.1:3306/"
                .parse::<ProviderSpec>()
                .unwrap(),
            ProviderSpec::Server(_)
        ));
    }

    #[test]
    fn bad_providers_are_explained_without_secrets() {
        let e = "oracle://u:secret@h/x"
            .parse::<ProviderSpec>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a database provider") && !e.contains("secret"),
            "{e}"
        );
        let e = "sqlite:///prod.db"
            .parse::<ProviderSpec>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("never writes to a database it did not create"),
            "{e}"
        );
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgresql://app:s3cr@t@db:5432/x"),
            "postgresql://app:***@db:5432/x"
        );
        assert_eq!(redact_url("postgresql://app@db/x"), "postgresql://app@db/x");
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(
            ProviderSpec::Server("mysql://root:pw@h/".into()).to_string(),
            "mysql://root:***@h/"
        );
    }

    #[test]
    fn unique_names_fit_the_helper_rule() {
        let re = regex::Regex::new(r"^alembot_[a-z0-9]{12}$").unwrap();
        for _ in 0..100 {
            assert!(re.is_match(&unique_name()));
        }
    }

    #[test]
    fn known_images() {
        assert_eq!(image_profile("postgres:16").map(|p| p.0), Some(5432));
        assert_eq!(
            image_profile("docker.io/library/mysql:8").map(|p| p.0),
            Some(3306)
        );
        assert_eq!(image_profile("mariadb:11").map(|p| p.0), Some(3306));
        assert!(image_profile("redis:7").is_none());
    }
}
