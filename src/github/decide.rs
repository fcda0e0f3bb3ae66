//! What the bot does about an event, decided without HTTP.
//!
//! `commands::github` routes an event here, carries out the decision through
//! the client (the effects), and asks again where a decision needs a fact
//! only GitHub knows (the commenter's permission). Everything that is policy
//! (which events count, who may command, what a reply says, which reaction
//! answers) is here, so a table of events tests it.

use std::fmt;

use crate::config::Unauthorized;
use crate::github::body::{help_reply, is_alembot_text, unauthorized_reply};
use crate::github::client::Reaction;
use crate::github::command::{self, Command, Invocation};
use crate::github::event::{IssueCommentEvent, PullRequestEvent};

/// A pull request's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PullNumber(pub u64);

/// The id of an issue comment (a command comment, or the bot's reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommentId(pub u64);

/// A commit's full sha.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha(pub String);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}
display_inner!(PullNumber, CommentId, Sha);

/// What to do about a `pull_request` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullRequestDecision {
    /// Run the checks on the pull request and publish the report.
    Check,
    Ignore(String),
}

pub fn pull_request(e: &PullRequestEvent) -> PullRequestDecision {
    if e.runs_checks() {
        PullRequestDecision::Check
    } else {
        PullRequestDecision::Ignore(format!(
            "nothing to do for a pull request that was `{}`",
            e.action
        ))
    }
}

/// What a comment asks for, before anyone's permission is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentDecision {
    Ignore(String),
    /// Commands for the bot: whether they are obeyed depends on the
    /// commenter's permission ([`commands`]).
    Commands(Vec<Invocation>),
}

/// Why a comment is no business of the bot's whatever its commands: not a
/// new or edited comment, not on a pull request, or a bot's. Decided before
/// the settings are read, so such events never fail on them.
pub fn ignored_comment(e: &IssueCommentEvent) -> Option<String> {
    if e.action != "created" && e.action != "edited" {
        return Some(format!(
            "nothing to do for a comment that was `{}`",
            e.action
        ));
    }
    if !e.issue.is_pull_request() {
        return Some(format!(
            "comment on issue #{}, which is not a pull request: ignored",
            e.issue.number
        ));
    }
    let body = e.comment.body.as_deref().unwrap_or_default();
    if e.comment.user.is_bot() || is_alembot_text(body) {
        return Some(format!(
            "comment by {} is a bot's: ignored",
            e.comment.user.login
        ));
    }
    None
}

/// Reads a comment event: whether it counts ([`ignored_comment`]), and the
/// commands in it (on an edit, only the commands the edit added).
pub fn comment(e: &IssueCommentEvent, prefix: &str) -> CommentDecision {
    if let Some(why) = ignored_comment(e) {
        return CommentDecision::Ignore(why);
    }
    let body = e.comment.body.clone().unwrap_or_default();
    let invocations = match (
        &e.action[..],
        e.changes.as_ref().and_then(|c| c.body.as_ref()),
    ) {
        ("edited", Some(before)) => command::added(&before.from, &body, prefix),
        ("edited", None) => Vec::new(),
        _ => command::parse(&body, prefix),
    };
    if invocations.is_empty() {
        return CommentDecision::Ignore(format!("no `{prefix}` command in the comment"));
    }
    CommentDecision::Commands(invocations)
}

/// The facts a decision about commands needs beyond the comment.
#[derive(Debug, Clone, Copy)]
pub struct CommandContext<'a> {
    pub prefix: &'a str,
    pub login: &'a str,
    pub comment: CommentId,
    /// Whether the commenter has write, maintain or admin access.
    pub may_write: bool,
    pub unauthorized: Unauthorized,
    /// Whether this job may post (not `--no-publish`).
    pub may_post: bool,
    /// Whether this job only authorises (`--authorize-only`): it says
    /// whether to run and leaves the checks to another job.
    pub authorize_only: bool,
}

/// What to do about the commands of a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandDecision {
    /// The commenter may not command the bot; `reply` carries the reply
    /// to post, if any.
    Unauthorized { reply: Option<String> },
    /// No recheck among the commands: answer with help (and the errors).
    Reply {
        errors: Vec<Invocation>,
        reply: Option<String>,
        reaction: Option<Reaction>,
    },
    /// A recheck, in a job that only authorises: write the outputs that
    /// let the next job run it.
    Authorize { errors: Vec<Invocation> },
    /// A recheck: run the checks on the pull request and publish.
    Recheck { errors: Vec<Invocation> },
}

impl CommandDecision {
    /// The reaction on the command comment before the work starts.
    pub fn acknowledge(&self, may_post: bool) -> Option<Reaction> {
        match self {
            CommandDecision::Authorize { .. } | CommandDecision::Recheck { .. } if may_post => {
                Some(Reaction::Eyes)
            }
            _ => None,
        }
    }
}

pub fn commands(invocations: &[Invocation], cx: CommandContext<'_>) -> CommandDecision {
    if !cx.may_write {
        let reply = (cx.unauthorized == Unauthorized::Reply && cx.may_post)
            .then(|| unauthorized_reply(cx.login, cx.prefix, cx.comment.0));
        return CommandDecision::Unauthorized { reply };
    }
    let recheck = invocations.iter().any(|i| i.result == Ok(Command::Recheck));
    let errors: Vec<Invocation> = invocations
        .iter()
        .filter(|i| i.result.is_err())
        .cloned()
        .collect();
    if !recheck {
        let (reply, reaction) = if cx.may_post {
            let reaction = if errors.is_empty() {
                Reaction::PlusOne
            } else {
                Reaction::Confused
            };
            (
                Some(help_reply(cx.prefix, &errors, cx.comment.0)),
                Some(reaction),
            )
        } else {
            (None, None)
        };
        return CommandDecision::Reply {
            errors,
            reply,
            reaction,
        };
    }
    if cx.authorize_only {
        CommandDecision::Authorize { errors }
    } else {
        CommandDecision::Recheck { errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::event::{self, Event};

    fn comment_event(
        action: &str,
        body: &str,
        before: Option<&str>,
        on_pr: bool,
        bot: bool,
    ) -> IssueCommentEvent {
        let mut payload = serde_json::json!({
            "action": action,
            "issue": {"number": 7},
            "comment": {
                "id": 99,
                "body": body,
                "user": {"login": if bot { "helper[bot]" } else { "alice" }, "type": if bot { "Bot" } else { "User" }},
            },
            "repository": {"full_name": "acme/shop"},
        });
        if on_pr {
            payload["issue"]["pull_request"] = serde_json::json!({"url": "x"});
        }
        if let Some(before) = before {
            payload["changes"] = serde_json::json!({"body": {"from": before}});
        }
        let bytes = serde_json::to_vec(&payload).expect("json");
        match event::decode("issue_comment", &bytes).expect("decodes") {
            Event::IssueComment(e) => e,
            other => panic!("{other:?}"),
        }
    }

    fn verdict(d: &CommentDecision) -> String {
        match d {
            CommentDecision::Ignore(why) => format!("ignore: {why}"),
            CommentDecision::Commands(i) => format!("{} command(s)", i.len()),
        }
    }

    #[test]
    fn which_comments_count() {
        // (case, action, body, body before an edit, on a pull request, by a bot, decision)
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Option<&'a str>,
            bool,
            bool,
            &'a str,
        );
        let cases: &[Case] = &[
            (
                "a recheck",
                "created",
                "/alembot recheck",
                None,
                true,
                false,
                "1 command(s)",
            ),
            (
                "deleted",
                "deleted",
                "/alembot recheck",
                None,
                true,
                false,
                "ignore: nothing to do for a comment that was `deleted`",
            ),
            (
                "on an issue",
                "created",
                "/alembot recheck",
                None,
                false,
                false,
                "ignore: comment on issue #7, which is not a pull request: ignored",
            ),
            (
                "by a bot",
                "created",
                "/alembot recheck",
                None,
                true,
                true,
                "ignore: comment by helper[bot] is a bot's: ignored",
            ),
            (
                "no command",
                "created",
                "looks good",
                None,
                true,
                false,
                "ignore: no `/alembot` command in the comment",
            ),
            (
                "in code",
                "created",
                "`/alembot recheck`",
                None,
                true,
                false,
                "ignore: no `/alembot` command in the comment",
            ),
            (
                "an edit adding a command",
                "edited",
                "ok\n/alembot recheck",
                Some("ok"),
                true,
                false,
                "1 command(s)",
            ),
            (
                "an edit keeping a command",
                "edited",
                "/alembot recheck\nthanks",
                Some("/alembot recheck"),
                true,
                false,
                "ignore: no `/alembot` command in the comment",
            ),
            (
                "an edit without the old body",
                "edited",
                "/alembot recheck",
                None,
                true,
                false,
                "ignore: no `/alembot` command in the comment",
            ),
        ];
        for (case, action, body, before, on_pr, bot, want) in cases {
            let e = comment_event(action, body, *before, *on_pr, *bot);
            assert_eq!(verdict(&comment(&e, "/alembot")), *want, "{case}");
        }
    }

    fn cx(may_write: bool, may_post: bool, authorize_only: bool) -> CommandContext<'static> {
        CommandContext {
            prefix: "/alembot",
            login: "alice",
            comment: CommentId(99),
            may_write,
            unauthorized: Unauthorized::Reply,
            may_post,
            authorize_only,
        }
    }

    fn kind(d: &CommandDecision) -> String {
        match d {
            CommandDecision::Unauthorized { reply } => {
                format!("unauthorized, reply: {}", reply.is_some())
            }
            CommandDecision::Reply {
                errors,
                reply,
                reaction,
            } => format!(
                "reply, {} error(s), reply: {}, reaction: {}",
                errors.len(),
                reply.is_some(),
                reaction.map(|r| r.as_str()).unwrap_or("none")
            ),
            CommandDecision::Authorize { .. } => "authorize".into(),
            CommandDecision::Recheck { .. } => "recheck".into(),
        }
    }

    #[test]
    fn what_commands_lead_to() {
        // (case, comment, may write, may post, authorise only, decision)
        let cases: &[(&str, &str, bool, bool, bool, &str)] = &[
            ("recheck", "/alembot recheck", true, true, false, "recheck"),
            (
                "recheck, authorising job",
                "/alembot recheck",
                true,
                true,
                true,
                "authorize",
            ),
            (
                "recheck without write access",
                "/alembot recheck",
                false,
                true,
                false,
                "unauthorized, reply: true",
            ),
            (
                "without write access, not posting",
                "/alembot recheck",
                false,
                false,
                false,
                "unauthorized, reply: false",
            ),
            (
                "help",
                "/alembot help",
                true,
                true,
                false,
                "reply, 0 error(s), reply: true, reaction: +1",
            ),
            (
                "unknown command",
                "/alembot frobnicate",
                true,
                true,
                false,
                "reply, 1 error(s), reply: true, reaction: confused",
            ),
            (
                "unknown command, not posting",
                "/alembot frobnicate",
                true,
                false,
                false,
                "reply, 1 error(s), reply: false, reaction: none",
            ),
            (
                "recheck next to an unknown command",
                "/alembot recheck\n/alembot frobnicate",
                true,
                true,
                false,
                "recheck",
            ),
        ];
        for (case, body, may_write, may_post, authorize_only, want) in cases {
            let invocations = command::parse(body, "/alembot");
            let d = commands(&invocations, cx(*may_write, *may_post, *authorize_only));
            assert_eq!(kind(&d), *want, "{case}");
        }
    }

    #[test]
    fn unauthorized_silence_is_configurable() {
        let invocations = command::parse("/alembot recheck", "/alembot");
        let mut c = cx(false, true, false);
        c.unauthorized = Unauthorized::Ignore;
        assert_eq!(
            commands(&invocations, c),
            CommandDecision::Unauthorized { reply: None }
        );
    }

    #[test]
    fn rechecks_are_acknowledged_with_eyes_when_posting() {
        let d = CommandDecision::Recheck { errors: vec![] };
        assert_eq!(d.acknowledge(true), Some(Reaction::Eyes));
        assert_eq!(d.acknowledge(false), None);
        let help = CommandDecision::Reply {
            errors: vec![],
            reply: None,
            reaction: None,
        };
        assert_eq!(help.acknowledge(true), None);
    }
}
