//! The syntax tree of role and permission statements (`CREATE ROLE`, `GRANT`, `LIST ROLES`,
//! ...), kept apart from [`ast`](super::ast), which holds them as [`Statement::Auth`].
//!
//! [`Statement::Auth`]: super::ast::Statement::Auth

use std::fmt;

/// A role or permission statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStatement {
    /// `CREATE ROLE` or `CREATE USER`.
    CreateRole {
        /// The role.
        name: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// The options given.
        options: RoleOptions,
    },
    /// `ALTER ROLE` or `ALTER USER`.
    AlterRole {
        /// The role.
        name: String,
        /// The options given.
        options: RoleOptions,
    },
    /// `DROP ROLE` or `DROP USER`.
    DropRole {
        /// The role.
        name: String,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// `GRANT role TO grantee`.
    GrantRole {
        /// The role granted.
        role: String,
        /// The role receiving it.
        grantee: String,
    },
    /// `REVOKE role FROM revokee`.
    RevokeRole {
        /// The role revoked.
        role: String,
        /// The role losing it.
        revokee: String,
    },
    /// `GRANT permissions ON resource TO role`.
    GrantPermissions {
        /// The permissions (all of them for `ALL`).
        permissions: Vec<Permission>,
        /// The resource.
        resource: Resource,
        /// The role.
        role: String,
    },
    /// `REVOKE permissions ON resource FROM role`.
    RevokePermissions {
        /// The permissions (all of them for `ALL`).
        permissions: Vec<Permission>,
        /// The resource.
        resource: Resource,
        /// The role.
        role: String,
    },
    /// `LIST ROLES [OF role] [NORECURSIVE]`, or `LIST USERS` (`users` set).
    ListRoles {
        /// `OF role`.
        of: Option<String>,
        /// Whether roles granted through other roles are listed (no `NORECURSIVE`).
        recursive: bool,
        /// `LIST USERS`: the legacy columns, login roles only.
        users: bool,
    },
    /// `LIST permissions [ON resource] [OF role] [NORECURSIVE]`.
    ListPermissions {
        /// The permissions asked for (all of them for `ALL`).
        permissions: Vec<Permission>,
        /// `ON resource`.
        resource: Option<Resource>,
        /// `OF role`.
        of: Option<String>,
        /// Whether the resource's parents are listed too (no `NORECURSIVE`).
        recursive: bool,
    },
}

/// The options of `CREATE ROLE` / `ALTER ROLE` (`None` = not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleOptions {
    /// `PASSWORD = '...'`.
    pub password: Option<String>,
    /// `LOGIN = bool`.
    pub login: Option<bool>,
    /// `SUPERUSER = bool`.
    pub superuser: Option<bool>,
    /// `OPTIONS = {...}`, as written.
    pub options: Option<Vec<(String, String)>>,
}

/// A permission, in Cassandra's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// CREATE.
    Create,
    /// ALTER.
    Alter,
    /// DROP.
    Drop,
    /// SELECT.
    Select,
    /// MODIFY.
    Modify,
    /// AUTHORIZE.
    Authorize,
    /// DESCRIBE.
    Describe,
    /// EXECUTE.
    Execute,
}

impl Permission {
    /// Every permission, in order (what `ALL PERMISSIONS` names before filtering by resource).
    pub const ALL: [Self; 8] = [
        Self::Create,
        Self::Alter,
        Self::Drop,
        Self::Select,
        Self::Modify,
        Self::Authorize,
        Self::Describe,
        Self::Execute,
    ];

    /// The permission's CQL name (`SELECT`), as LIST PERMISSIONS and `role_permissions` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Alter => "ALTER",
            Self::Drop => "DROP",
            Self::Select => "SELECT",
            Self::Modify => "MODIFY",
            Self::Authorize => "AUTHORIZE",
            Self::Describe => "DESCRIBE",
            Self::Execute => "EXECUTE",
        }
    }

    /// The permission named `name` (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

/// A resource permissions are granted on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// `ALL KEYSPACES` (`data`).
    AllKeyspaces,
    /// `KEYSPACE k` (`data/k`).
    Keyspace(String),
    /// `TABLE k.t` (`data/k/t`); the keyspace is `None` until qualified by the current one.
    Table(Option<String>, String),
    /// `ALL ROLES` (`roles`).
    AllRoles,
    /// `ROLE r` (`roles/r`).
    Role(String),
    /// `ALL FUNCTIONS` (`functions`).
    AllFunctions,
}

impl Resource {
    /// The resource's stored name, as `system_auth.role_permissions` keys it (`data/ks/t`).
    pub fn stored_name(&self) -> String {
        match self {
            Self::AllKeyspaces => "data".into(),
            Self::Keyspace(k) => format!("data/{k}"),
            Self::Table(k, t) => format!("data/{}/{t}", k.as_deref().unwrap_or_default()),
            Self::AllRoles => "roles".into(),
            Self::Role(r) => format!("roles/{r}"),
            Self::AllFunctions => "functions".into(),
        }
    }

    /// The resource named by a stored name (`data/ks`), when well formed.
    pub fn from_stored_name(name: &str) -> Option<Self> {
        let parts: Vec<&str> = name.split('/').collect();
        Some(match parts.as_slice() {
            ["data"] => Self::AllKeyspaces,
            ["data", k] => Self::Keyspace((*k).to_owned()),
            ["data", k, t] => Self::Table(Some((*k).to_owned()), (*t).to_owned()),
            ["roles"] => Self::AllRoles,
            ["roles", r] => Self::Role((*r).to_owned()),
            ["functions"] => Self::AllFunctions,
            _ => return None,
        })
    }

    /// The resource and its parents, nearest first (`<table k.t>`, `<keyspace k>`,
    /// `<all keyspaces>`): a permission on any of them applies.
    pub fn chain(&self) -> Vec<Self> {
        let mut out = vec![self.clone()];
        match self {
            Self::Table(Some(k), _) => {
                out.push(Self::Keyspace(k.clone()));
                out.push(Self::AllKeyspaces);
            }
            Self::Table(None, _) | Self::Keyspace(_) => out.push(Self::AllKeyspaces),
            Self::Role(_) => out.push(Self::AllRoles),
            Self::AllKeyspaces | Self::AllRoles | Self::AllFunctions => {}
        }
        out
    }

    /// The permissions that can be granted on this resource (Cassandra's `applicablePermissions`).
    pub fn applicable(&self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::AllKeyspaces | Self::Keyspace(_) => {
                &[Create, Alter, Drop, Select, Modify, Authorize]
            }
            Self::Table(..) => &[Alter, Drop, Select, Modify, Authorize],
            Self::AllRoles => &[Create, Alter, Drop, Authorize, Describe],
            Self::Role(_) => &[Alter, Drop, Authorize],
            Self::AllFunctions => &[Create, Alter, Drop, Authorize, Execute],
        }
    }

    /// The resource kind's name in Cassandra's messages (`DataResource`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::AllKeyspaces | Self::Keyspace(_) | Self::Table(..) => "DataResource",
            Self::AllRoles | Self::Role(_) => "RoleResource",
            Self::AllFunctions => "FunctionResource",
        }
    }
}

/// As Cassandra prints a resource in messages and LIST PERMISSIONS: `<table ks.t>`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AllKeyspaces => f.write_str("<all keyspaces>"),
            Self::Keyspace(k) => write!(f, "<keyspace {k}>"),
            Self::Table(k, t) => write!(f, "<table {}.{t}>", k.as_deref().unwrap_or_default()),
            Self::AllRoles => f.write_str("<all roles>"),
            Self::Role(r) => write!(f, "<role {r}>"),
            Self::AllFunctions => f.write_str("<all functions>"),
        }
    }
}
