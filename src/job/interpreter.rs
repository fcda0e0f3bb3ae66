//! How the project's Python is started: an interpreter path, or a command
//! prefix that ends in one (`docker exec -i app python`, `docker compose run
//! --rm -T app python`, `kubectl exec -i deploy/api -- python`, `uv run
//! python`).
//!
//! A path runs the helper script alembot wrote into its run directory. A
//! prefix may run the interpreter where that directory does not exist (a
//! container, a pod), so the helper is streamed instead: the command gets
//! `-c BOOTSTRAP`, a few lines that read the helper's source and then the
//! request from stdin. No path of the host appears in the command.

use std::path::Path;

/// The Python of a `python:` value or `--python`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interpreter {
    /// One program: runs the helper script from the run directory.
    Path(String),
    /// A program and its arguments, the interpreter last: the helper is
    /// streamed to it.
    Prefix { program: String, args: Vec<String> },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` cannot be split into a command: a quote is not closed\n  help: quote the words of the python command the way a POSIX shell would, e.g. `docker exec -i my-app python`"
)]
pub struct SplitError(pub String);

impl Interpreter {
    /// An existing file, or a value without spaces, is one program (a path
    /// may contain spaces); anything else is split like a shell would.
    pub fn parse(value: &str) -> Result<Interpreter, SplitError> {
        let trimmed = value.trim();
        if !trimmed.contains(char::is_whitespace) || Path::new(trimmed).is_file() {
            return Ok(Interpreter::Path(trimmed.to_string()));
        }
        let mut words = shlex::split(trimmed).ok_or_else(|| SplitError(value.to_string()))?;
        if words.len() == 1 {
            return Ok(Interpreter::Path(words.remove(0)));
        }
        let program = words.remove(0);
        Ok(Interpreter::Prefix {
            program,
            args: words,
        })
    }

    pub fn program(&self) -> &str {
        match self {
            Interpreter::Path(p) => p,
            Interpreter::Prefix { program, .. } => program,
        }
    }
}

/// What a streamed helper's interpreter runs (`python -c BOOTSTRAP`). On
/// stdin: a line with the length in bytes of a JSON object `{"package":
/// NAME, "files": {FILE: SOURCE}}` (the helper package), that object, a line
/// with the request's length, the request. The package is imported from
/// memory, its `__main__.py` runs as the helper's entry point, and its
/// files' paths (`/alembot-helper/NAME/FILE`) exist nowhere, so the helper
/// never mistakes a project file for its own.
///
/// Then stdin stays open while alembot waits; when it closes (alembot was
/// killed, and `docker exec -i`, `docker run -i` or `kubectl exec -i` close
/// the far end's stdin) the helper exits, so a helper in a container does
/// not outlive its run.
pub const BOOTSTRAP: &str = r#"import io,json,os,sys,threading,importlib.abc,importlib.util
r=sys.stdin.buffer
h=json.loads(r.read(int(r.readline())))
q=r.read(int(r.readline()))
def w():
    while os.read(0,65536):
        pass
    os._exit(143)
threading.Thread(target=w,daemon=True).start()
P=h['package'];F=h['files'];B='/alembot-helper/'+P
class L(importlib.abc.MetaPathFinder,importlib.abc.Loader):
    def find_spec(self,n,p,t=None):
        k='__init__.py' if n==P else n[len(P)+1:].replace('.','/')+'.py' if n.startswith(P+'.') else None
        if k not in F:
            return None
        s=importlib.util.spec_from_loader(n,self,origin=B+'/'+k,is_package=k=='__init__.py')
        s.has_location=True
        return s
    def create_module(self,s):
        return None
    def exec_module(self,m):
        m.__file__=m.__spec__.origin
        exec(compile(F[m.__file__[len(B)+1:]],m.__file__,'exec'),m.__dict__)
sys.meta_path.insert(0,L())
sys.stdin=io.TextIOWrapper(io.BytesIO(q),encoding='utf-8')
sys.stdout.reconfigure(line_buffering=True)
sys.dont_write_bytecode=True
sys.argv=[B]
f=B+'/__main__.py'
g={'__name__':'__main__','__package__':P if '__init__.py' in F else None,'__file__':f}
exec(compile(F['__main__.py'],f,'exec'),g)
"#;

/// The bytes a streamed helper reads from stdin: the package `name` made of
/// `files` (name in the package, source), then the request.
pub fn streamed_input(package: &str, files: &[(&str, &str)], request: &[u8]) -> Vec<u8> {
    let files: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(name, text)| ((*name).to_string(), serde_json::Value::from(*text)))
        .collect();
    let payload = serde_json::json!({"package": package, "files": files}).to_string();
    let mut out = Vec::with_capacity(payload.len() + request.len() + 24);
    out.extend_from_slice(format!("{}\n", payload.len()).as_bytes());
    out.extend_from_slice(payload.as_bytes());
    out.extend_from_slice(format!("{}\n", request.len()).as_bytes());
    out.extend_from_slice(request);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(program: &str, args: &[&str]) -> Interpreter {
        Interpreter::Prefix {
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn paths_and_prefixes() {
        assert_eq!(
            Interpreter::parse("/usr/bin/python3"),
            Ok(Interpreter::Path("/usr/bin/python3".into()))
        );
        assert_eq!(
            Interpreter::parse(" python3 "),
            Ok(Interpreter::Path("python3".into()))
        );
        assert_eq!(
            Interpreter::parse("docker exec -i my-app python"),
            Ok(prefix("docker", &["exec", "-i", "my-app", "python"]))
        );
        assert_eq!(
            Interpreter::parse("kubectl exec -i deploy/api -- python"),
            Ok(prefix(
                "kubectl",
                &["exec", "-i", "deploy/api", "--", "python"]
            ))
        );
        assert_eq!(
            Interpreter::parse("docker compose run --rm -T -e 'A=b c' app python"),
            Ok(prefix(
                "docker",
                &[
                    "compose", "run", "--rm", "-T", "-e", "A=b c", "app", "python"
                ]
            ))
        );
        // One quoted word is a path with a space.
        assert_eq!(
            Interpreter::parse("'/opt/my python/bin/python'"),
            Ok(Interpreter::Path("/opt/my python/bin/python".into()))
        );
        assert!(
            Interpreter::parse("docker exec -i 'app python")
                .unwrap_err()
                .to_string()
                .contains("a quote is not closed")
        );
    }

    #[test]
    fn an_existing_file_with_a_space_is_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("my python");
        std::fs::write(&file, "").unwrap();
        let text = file.display().to_string();
        assert_eq!(Interpreter::parse(&text), Ok(Interpreter::Path(text)));
    }

    /// The bootstrap on a real Python: a package imported from memory, its
    /// `__main__` reading the request from stdin.
    #[test]
    fn the_bootstrap_runs_a_package_from_stdin() {
        let files = [
            ("__init__.py", "NAME = 'pkg'\n"),
            ("util.py", "def hello(x):\n    return 'hello ' + x\n"),
            (
                "__main__.py",
                "import sys\nfrom alembot_test_pkg.util import hello\nimport alembot_test_pkg\nprint(hello(sys.stdin.read()), alembot_test_pkg.NAME, __file__)\n",
            ),
        ];
        let input = streamed_input("alembot_test_pkg", &files, b"world");
        let mut child = std::process::Command::new("python3")
            .args(["-c", BOOTSTRAP])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::{BufRead, Write};
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input).unwrap();
        stdin.flush().unwrap();
        // stdin stays open, as alembot keeps it while it waits.
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line,
            "hello world pkg /alembot-helper/alembot_test_pkg/__main__.py\n"
        );
        assert_eq!(child.wait().unwrap().code(), Some(0));
        drop(stdin);
        assert!(!BOOTSTRAP.contains("/tmp"));
    }

    /// When its stdin closes (alembot is gone) a streamed helper exits.
    #[test]
    fn the_streamed_helper_ends_when_its_stdin_closes() {
        let files = [("__main__.py", "import time\ntime.sleep(60)\n")];
        let input = streamed_input("alembot_test_pkg", &files, b"{}");
        let mut child = std::process::Command::new("python3")
            .args(["-c", BOOTSTRAP])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input).unwrap();
        drop(stdin);
        assert_eq!(child.wait().unwrap().code(), Some(143));
    }
}
