//! Dedicated agents: who an organization's or requester's tickets go to first, and who
//! takes over when that agent cannot.

use std::collections::HashMap;

use super::Waiting;

/// Who a dedicated agent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DedicatedTo {
    Organization,
    Requester,
}

impl DedicatedTo {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Requester => "requester",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "organization" => Some(Self::Organization),
            "requester" => Some(Self::Requester),
            _ => None,
        }
    }
}

impl std::fmt::Display for DedicatedTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dedication: the organization's or requester's agent, and who takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dedication {
    pub kind: DedicatedTo,
    pub key: i64,
    pub agent: i64,
    pub fallback: Option<i64>,
}

/// The account's dedicated agents, by requester and by organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dedicated {
    pub by_requester: HashMap<i64, Dedication>,
    pub by_organization: HashMap<i64, Dedication>,
}

impl Dedicated {
    pub fn from_list(list: impl IntoIterator<Item = Dedication>) -> Self {
        let mut dedicated = Self::default();
        for d in list {
            match d.kind {
                DedicatedTo::Requester => dedicated.by_requester.insert(d.key, d),
                DedicatedTo::Organization => dedicated.by_organization.insert(d.key, d),
            };
        }
        dedicated
    }

    /// The requester's dedication, else the organization's.
    pub(super) fn for_ticket(&self, ticket: &Waiting) -> Option<Dedication> {
        ticket
            .requester_id
            .and_then(|r| self.by_requester.get(&r))
            .or_else(|| {
                ticket
                    .organization_id
                    .and_then(|o| self.by_organization.get(&o))
            })
            .copied()
    }
}
