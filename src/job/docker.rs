//! The `docker:IMAGE` provider: a database container on a local Docker
//! engine, driven through the `docker` command-line client (the README's
//! design notes say why the CLI and not the Engine API).
//!
//! Every container is labelled `alembot=1` and with its owner (host, boot,
//! process id and start time), and registered with the janitor by name
//! before `docker run`. A run that was killed (SIGKILL) cannot remove its
//! container; the next run finds containers whose owner is gone and
//! removes them, and says so.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::cleanup::{Cleanup, Janitor};
use super::helper::{Helper, HelperError};
use super::provider::{ProviderError, create_database, unique_name};

/// What a known image needs: its port, the variables that set its
/// password, and the URL of its server (`{password}`, `{host}` and `{port}`
/// filled in).
struct Profile {
    port: u16,
    password_vars: &'static [&'static str],
    url: &'static str,
}

const POSTGRES: Profile = Profile {
    port: 5432,
    password_vars: &["POSTGRES_PASSWORD"],
    url: "postgresql://postgres:{password}@{host}:{port}/postgres",
};

const MYSQL: Profile = Profile {
    port: 3306,
    password_vars: &["MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD"],
    url: "mysql://root:{password}@{host}:{port}/",
};

/// A password per container. Random, not a word: the helper masks the
/// password wherever it appears in its output, and a password such as
/// "alembot" masked every path that contains it.
fn password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..24)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

/// The profile of an image, by the last part of its name.
fn profile(image: &str) -> Option<&'static Profile> {
    let name = image
        .rsplit('/')
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    if ["postgres", "postgis", "timescale", "pgvector"]
        .iter()
        .any(|k| name.contains(k))
    {
        Some(&POSTGRES)
    } else if ["mysql", "mariadb", "percona"]
        .iter()
        .any(|k| name.contains(k))
    {
        Some(&MYSQL)
    } else {
        None
    }
}

/// The default port of an image alembot knows, for tests and messages.
pub fn image_port(image: &str) -> Option<u16> {
    profile(image).map(|p| p.port)
}

const NO_ENGINE_HELP: &str = "start Docker (`dockerd`, Docker Desktop, or `DOCKER_HOST` for a remote engine), or use another provider: `--database postgres-ephemeral` (PostgreSQL's server programs), `--database sqlite`, or a server URL such as postgresql://user@localhost:5432/postgres";

/// Runs `docker ARGS` and returns its stdout, or its stderr as the error.
async fn docker(args: &[&str]) -> Result<String, String> {
    let out = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "the `docker` command is not installed".to_string()
            } else {
                format!("cannot run docker: {e}")
            }
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Whether a Docker engine answers (`docker version` reaches a server).
pub async fn engine() -> Result<(), ProviderError> {
    docker(&["version", "--format", "{{.Server.Version}}"])
        .await
        .map(|_| ())
        .map_err(|reason| ProviderError::Unavailable {
            message: format!("no Docker engine is reachable: {reason}"),
            help: NO_ENGINE_HELP.into(),
        })
}

/// The image is on this machine, or is pulled now; otherwise the `docker
/// pull` to run.
async fn ensure_image(image: &str) -> Result<(), ProviderError> {
    if docker(&["image", "inspect", "--format", "{{.Id}}", image])
        .await
        .is_ok()
    {
        return Ok(());
    }
    tracing::info!("pulling {image}");
    docker(&["pull", "--quiet", image])
        .await
        .map(|_| ())
        .map_err(|reason| ProviderError::Unavailable {
            message: format!(
                "the image `{image}` is not on this machine and could not be pulled: {}",
                reason.lines().last().unwrap_or("")
            ),
            help: format!(
                "run `docker pull {image}` where the registry is reachable (or `docker load` it), then run alembot again"
            ),
        })
}

/// Who started a container: this host, this boot, this process (by id and
/// start time, so a recycled process id is not taken for the owner).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    host: String,
    boot: String,
    pid: u32,
    start: String,
}

impl Owner {
    fn me() -> Owner {
        let pid = std::process::id();
        Owner {
            host: hostname(),
            boot: boot_id(),
            pid,
            start: process_start(pid).unwrap_or_default(),
        }
    }

    fn label(&self) -> String {
        format!("{}:{}:{}", self.boot, self.pid, self.start)
    }

    fn parse(host: &str, label: &str) -> Option<Owner> {
        let mut parts = label.splitn(3, ':');
        let boot = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.to_string();
        Some(Owner {
            host: host.to_string(),
            boot,
            pid,
            start,
        })
    }

    /// Whether this owner, on this host, is certainly gone. Containers of
    /// other hosts (a shared remote engine) are never judged.
    fn gone(&self, me: &Owner) -> bool {
        if self.host != me.host || self.pid == me.pid && self.boot == me.boot {
            return false;
        }
        if self.boot != me.boot {
            return true;
        }
        match process_start(self.pid) {
            Some(start) => start != self.start,
            None => !process_exists(self.pid),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Linux's boot id; elsewhere a constant (a reboot then is not noticed,
/// and the process check alone decides).
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_string())
        .unwrap_or_else(|_| "-".into())
}

/// A process's start time (clock ticks since boot, /proc/PID/stat field 22).
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count
    // from the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19).map(str::to_string)
}

fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: kill(2) with signal 0 only checks for existence.
        let r = unsafe { libc::kill(pid as i32, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Removes the containers earlier runs on this host left behind when they
/// were killed (their owner process is gone). Returns what it said.
pub async fn reap_orphans() -> Vec<String> {
    let me = Owner::me();
    let Ok(listing) = docker(&[
        "ps",
        "-a",
        "--filter",
        "label=alembot=1",
        "--format",
        "{{.ID}}\t{{.Names}}\t{{.Label \"alembot.host\"}}\t{{.Label \"alembot.owner\"}}",
    ])
    .await
    else {
        return Vec::new();
    };
    let mut said = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, name, host, owner] = fields[..] else {
            continue;
        };
        let Some(owner) = Owner::parse(host, owner) else {
            continue;
        };
        if !owner.gone(&me) {
            continue;
        }
        let text = match docker(&["rm", "-f", "-v", id]).await {
            Ok(_) => format!(
                "removed container {name} left by alembot process {} (killed before it could clean up)",
                owner.pid
            ),
            Err(e) => format!(
                "could not remove container {name} left by alembot process {}: {e}; remove it with `docker rm -f -v {name}`",
                owner.pid
            ),
        };
        tracing::warn!("{text}");
        said.push(text);
    }
    said
}

/// A started database container: the URL of its server as the project's
/// interpreter reaches it.
pub struct Started {
    pub url: String,
    pub container: String,
}

/// Starts `image`, finds its port, and waits until its server accepts a
/// CREATE DATABASE. With `network`, the container joins that network and
/// the URL uses its address there (for an interpreter in a container on
/// the same network); otherwise its port is published on 127.0.0.1.
pub async fn start(
    image: &str,
    network: Option<&str>,
    janitor: &Janitor,
    helper: &Helper,
    run_id: &str,
) -> Result<Started, ProviderError> {
    let profile = profile(image).ok_or_else(|| ProviderError::Unavailable {
        message: format!("alembot does not know how to start `{image}`"),
        help: "use a postgres, mysql or mariadb image (e.g. docker:postgres:16), or start the server yourself and pass its URL".into(),
    })?;
    engine().await?;
    reap_orphans().await;
    ensure_image(image).await?;
    let name = format!("alembot-{run_id}");
    let owner = Owner::me();
    let mut args: Vec<String> = vec![
        "run".into(),
        "-d".into(),
        "--name".into(),
        name.clone(),
        "--label".into(),
        "alembot=1".into(),
        "--label".into(),
        format!("alembot.run={run_id}"),
        "--label".into(),
        format!("alembot.host={}", owner.host),
        "--label".into(),
        format!("alembot.owner={}", owner.label()),
    ];
    match network {
        Some(net) => args.extend(["--network".into(), net.to_string()]),
        None => args.extend(["-p".into(), format!("127.0.0.1::{}", profile.port)]),
    }
    let password = password();
    for var in profile.password_vars {
        args.extend(["-e".into(), format!("{var}={password}")]);
    }
    args.push(image.to_string());
    // Registered by name before it exists: an interrupt during `docker
    // run` still removes it.
    janitor.register(Cleanup::RemoveContainer { id: name.clone() });
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    docker(&argv)
        .await
        .map_err(|reason| ProviderError::Unavailable {
            message: format!("docker could not start {image}: {reason}"),
            help: match network {
                Some(net) => format!(
                    "check that the network `{net}` exists (`docker network ls`; container.network in .alembot.yml)"
                ),
                None => "check `docker run` with this image by hand".into(),
            },
        })?;
    let (host, port) = match network {
        Some(net) => (address_on(&name, net).await?, profile.port.to_string()),
        None => (
            "127.0.0.1".to_string(),
            published_port(&name, profile.port).await?,
        ),
    };
    let url = profile
        .url
        .replace("{password}", &password)
        .replace("{host}", &host)
        .replace("{port}", &port);
    wait_ready(&name, &url, janitor, helper).await?;
    Ok(Started {
        url,
        container: name,
    })
}

/// The host port `docker run -p 127.0.0.1::PORT` chose.
async fn published_port(container: &str, port: u16) -> Result<String, ProviderError> {
    let mapped = docker(&["port", container, &format!("{port}/tcp")])
        .await
        .unwrap_or_default();
    // `127.0.0.1:49153`, one line per address.
    mapped
        .lines()
        .find_map(|l| l.rsplit_once(':').map(|(_, p)| p.trim().to_string()))
        .filter(|p| p.parse::<u16>().is_ok())
        .ok_or_else(|| ProviderError::Unavailable {
            message: format!(
                "docker published no port for {port}/tcp of container {container} (`docker port` said: {mapped:?})"
            ),
            help: "check that the engine maps ports (`docker run -p 127.0.0.1::5432 ...` by hand)"
                .into(),
        })
}

/// The container's IP address on `network`.
async fn address_on(container: &str, network: &str) -> Result<String, ProviderError> {
    let format = format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
    docker(&["inspect", "--format", &format, container])
        .await
        .ok()
        .filter(|ip| !ip.is_empty() && ip != "<no value>")
        .ok_or_else(|| ProviderError::Unavailable {
            message: format!("container {container} has no address on the network `{network}`"),
            help: "check container.network in .alembot.yml (`docker network inspect NAME`)".into(),
        })
}

/// Errors that mean "the server is not listening yet": the port refuses,
/// or Docker's port proxy accepts and closes at once, or PostgreSQL is
/// still starting. Anything else (a password, a broken image, an encoding
/// error) will not go away by waiting.
pub fn is_transient(message: &str) -> bool {
    const SIGNS: [&str; 9] = [
        "connection refused",
        "connection reset",
        "server closed the connection unexpectedly",
        "the database system is starting up",
        "the database system is shutting down",
        "lost connection to mysql server",
        "can't connect to mysql server",
        "connection was killed",
        "broken pipe",
    ];
    let lower = message.to_ascii_lowercase();
    SIGNS.iter().any(|s| lower.contains(s))
}

/// How long a container may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// Tries to create and drop a probe database until the server answers;
/// only "not listening yet" errors are retried.
async fn wait_ready(
    container: &str,
    url: &str,
    janitor: &Janitor,
    helper: &Helper,
) -> Result<(), ProviderError> {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        let probe = unique_name();
        let cleanup = janitor.register(Cleanup::DropDatabase {
            server_url: url.to_string(),
            name: probe.clone(),
        });
        let message = match create_database(helper, url, &probe).await {
            Ok(_) => {
                janitor.run(cleanup).await;
                return Ok(());
            }
            Err(ProviderError::Helper(HelperError::Connection { message, .. })) => message,
            Err(e) => {
                janitor.forget(cleanup);
                return Err(e);
            }
        };
        janitor.forget(cleanup);
        if !is_transient(&message) {
            return Err(ProviderError::Unavailable {
                message: format!(
                    "the database in container {container} refused alembot: {message}"
                ),
                help: format!(
                    "see `docker logs {container}` while it runs; the image must honour POSTGRES_PASSWORD (postgres) or MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD (mysql, mariadb) like the official images"
                ),
            });
        }
        if let Ok(state) = docker(&[
            "inspect",
            "--format",
            "{{.State.Running}} {{.State.ExitCode}}",
            container,
        ])
        .await
            && state.starts_with("false")
        {
            let logs = container_logs(container).await;
            return Err(ProviderError::Unavailable {
                message: format!(
                    "container {container} stopped before it accepted connections (exit code {}){logs}",
                    state.split_whitespace().nth(1).unwrap_or("?")
                ),
                help: "run the image by hand to see why it stops".into(),
            });
        }
        if Instant::now() >= deadline {
            let logs = container_logs(container).await;
            return Err(ProviderError::Unavailable {
                message: format!(
                    "the database in container {container} did not accept connections within {} s: {message}{logs}",
                    READY_WITHIN.as_secs()
                ),
                help: "check the image by hand (`docker run` it and watch its logs)".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The last lines a container logged, indented for an error message.
async fn container_logs(container: &str) -> String {
    let out = tokio::process::Command::new("docker")
        .args(["logs", "--tail", "10", container])
        .stdin(Stdio::null())
        .output()
        .await;
    let Ok(out) = out else {
        return String::new();
    };
    let mut text = String::from_utf8_lossy(&out.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n  its last output:\n    {}", lines.join("\n    "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_images() {
        assert_eq!(image_port("postgres:16"), Some(5432));
        assert_eq!(image_port("alembot-test/postgres:15"), Some(5432));
        assert_eq!(image_port("docker.io/library/mysql:8"), Some(3306));
        assert_eq!(image_port("mariadb:11"), Some(3306));
        assert!(image_port("redis:7").is_none());
    }

    #[test]
    fn only_not_listening_yet_is_transient() {
        for text in [
            "cannot connect to postgresql://postgres:***@127.0.0.1:5432/postgres (host 127.0.0.1, port 5432): (psycopg2.OperationalError) connection to server at \"127.0.0.1\", port 49153 failed: Connection refused",
            "(psycopg2.OperationalError) server closed the connection unexpectedly",
            "(psycopg2.OperationalError) connection to server failed: FATAL:  the database system is starting up",
            "(pymysql.err.OperationalError) (2013, 'Lost connection to MySQL server during query')",
            "(pymysql.err.OperationalError) (2003, \"Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)\")",
            "[Errno 104] Connection reset by peer",
        ] {
            assert!(is_transient(text), "{text}");
        }
        for text in [
            "(psycopg2.OperationalError) FATAL:  password authentication failed for user \"postgres\"",
            "TypeError: cannot use a string pattern on a bytes-like object",
            "(pymysql.err.OperationalError) (1045, \"Access denied for user 'root'@'172.17.0.1' (using password: YES)\")",
            "FATAL:  role \"postgres\" does not exist",
        ] {
            assert!(!is_transient(text), "{text}");
        }
    }

    #[test]
    fn owners_are_judged_by_process_and_start_time() {
        let me = Owner::me();
        assert!(!me.gone(&me));
        // This process's parent is alive.
        let parent = std::os::unix::process::parent_id();
        let alive = Owner {
            pid: parent,
            start: process_start(parent).unwrap_or_default(),
            ..me.clone()
        };
        assert!(!alive.gone(&me));
        // The same pid with another start time is a recycled id.
        let recycled = Owner {
            start: "1".into(),
            ..alive.clone()
        };
        assert!(recycled.gone(&me));
        // Another boot of this host: gone; another host: never judged.
        let rebooted = Owner {
            boot: "another-boot".into(),
            ..alive.clone()
        };
        assert!(rebooted.gone(&me));
        let elsewhere = Owner {
            host: "another-host".into(),
            boot: "another-boot".into(),
            ..alive
        };
        assert!(!elsewhere.gone(&me));
        let parsed = Owner::parse(&me.host, &me.label()).unwrap();
        assert_eq!(parsed, me);
    }
}
