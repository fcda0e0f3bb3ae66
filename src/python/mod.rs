//! Reading Python source without running it.

pub mod lexer;
pub mod syntax;
