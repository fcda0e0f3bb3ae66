//! The one-line progress display on a terminal: which step each
//! environment is at. Silent when stderr is not a terminal (CI logs).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

pub struct Progress {
    enabled: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    global: Option<String>,
    envs: BTreeMap<String, String>,
    drawn: bool,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            state: Mutex::new(State::default()),
        }
    }

    pub fn set_global(&self, text: &str) {
        self.update(|s| s.global = Some(text.to_string()));
    }

    pub fn set(&self, env: &str, step: &str) {
        self.update(|s| {
            s.global = None;
            s.envs.insert(env.to_string(), step.to_string());
        });
    }

    pub fn done(&self, env: &str) {
        self.update(|s| {
            s.envs.remove(env);
        });
    }

    /// Clears the line.
    pub fn finish(&self) {
        if !self.enabled {
            return;
        }
        if let Ok(mut s) = self.state.lock()
            && s.drawn
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            s.drawn = false;
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        if !self.enabled {
            return;
        }
        let Ok(mut s) = self.state.lock() else { return };
        change(&mut s);
        let line = match &s.global {
            Some(g) => g.clone(),
            None => s
                .envs
                .iter()
                .map(|(env, step)| format!("{env}: {step}"))
                .collect::<Vec<_>>()
                .join(" · "),
        };
        let width = terminal_width().saturating_sub(12).max(20);
        let line: String = line.chars().take(width).collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2Kalembot: {line}");
        let _ = err.flush();
        s.drawn = true;
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}
