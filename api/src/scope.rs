//! The caller's access scope, handed to every store function.
//!
//! Every read path takes a `Scope` so that access rules are applied where the
//! data is read. Until keys are checked, every caller is public and every row
//! is visible to everyone.

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// No key: the general public.
    Public,
}

/// What the caller may read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub role: Role,
}

impl Scope {
    /// The scope of a caller without a key.
    pub fn public() -> Self {
        Scope { role: Role::Public }
    }
}
