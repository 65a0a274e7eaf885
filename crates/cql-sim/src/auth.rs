//! Roles and permissions: the state behind `system_auth` (Cassandra's `CassandraRoleManager`,
//! `PasswordAuthenticator` and `CassandraAuthorizer`), its login check and its table rows.
//!
//! The state lives in the [`Catalog`](crate::schema::Catalog) beside the schema, so that the
//! executor and the virtual `system_auth` tables read one copy. Passwords are kept only as a
//! salted hash (MD5 over a per-role salt and the password, marked `$sim$md5$`): not bcrypt as
//! Cassandra stores, but never the clear password.

use std::collections::{BTreeMap, BTreeSet};

use md5::{Digest, Md5};
use proto::CqlValue;

use crate::cql::auth::{Permission, Resource};

/// The authenticator class clients are told about when authentication is on.
pub const PASSWORD_AUTHENTICATOR: &str = "org.apache.cassandra.auth.PasswordAuthenticator";
/// The role manager named in Cassandra's messages about unsupported role options.
pub const ROLE_MANAGER: &str = "org.apache.cassandra.auth.CassandraRoleManager";

/// One row of `system_auth.roles`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleRecord {
    /// `can_login`.
    pub can_login: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `member_of`: the roles granted to this one.
    pub member_of: BTreeSet<String>,
    /// `salted_hash`, when the role has a password.
    pub salted_hash: Option<String>,
}

/// Roles, their memberships and their granted permissions.
#[derive(Debug, Clone, Default)]
pub struct AuthState {
    /// Whether PasswordAuthenticator (and CassandraAuthorizer) are configured; otherwise the
    /// server runs Cassandra's defaults, AllowAllAuthenticator and AllowAllAuthorizer.
    pub enabled: bool,
    roles: BTreeMap<String, RoleRecord>,
    /// `(role, resource)` to the permissions granted there.
    permissions: BTreeMap<(String, Resource), BTreeSet<Permission>>,
    salts: u64,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digest(salt: &str, password: &str) -> String {
    let mut h = Md5::new();
    h.update(salt.as_bytes());
    h.update(password.as_bytes());
    hex(&h.finalize())
}

/// Decodes a SASL PLAIN token (`[authzid] NUL authcid NUL password`) as Cassandra's
/// `PlainTextSaslAuthenticator` does, with its messages for malformed tokens.
pub fn decode_plain(token: &[u8]) -> Result<(String, String), String> {
    let mut fields = token.rsplitn(3, |b| *b == 0);
    let pass = fields.next();
    let user = fields.next();
    let rest = fields.next();
    if rest.is_some_and(|r| r.contains(&0)) {
        return Err(
            "Credential format error: username or password is empty or contains NUL(\\0) character"
                .into(),
        );
    }
    // Without any NUL there is no password field at all.
    let (pass, user) = match user {
        Some(u) => (pass.unwrap_or_default(), rest.map(|_| u)),
        None => (&[][..], None),
    };
    if pass.is_empty() {
        return Err("Password must not be null".into());
    }
    let user = match user {
        Some(u) if !u.is_empty() => u,
        _ => return Err("Authentication ID must not be null".into()),
    };
    Ok((
        String::from_utf8_lossy(user).into_owned(),
        String::from_utf8_lossy(pass).into_owned(),
    ))
}

impl AuthState {
    /// Turns PasswordAuthenticator on and creates (or resets) a superuser that can log in
    /// with `password` (what [`SimClusterBuilder::auth`](crate::SimClusterBuilder::auth) does;
    /// Cassandra creates `cassandra`/`cassandra` the same way on first start).
    pub fn enable_with_superuser(&mut self, name: &str, password: &str) {
        self.enabled = true;
        let hash = self.hash(password);
        let r = self.roles.entry(name.to_owned()).or_default();
        r.can_login = true;
        r.is_superuser = true;
        r.salted_hash = Some(hash);
    }

    /// A salted hash of `password` with a fresh salt (deterministic: a counter).
    pub(crate) fn hash(&mut self, password: &str) -> String {
        self.salts += 1;
        let mut h = Md5::new();
        h.update(self.salts.to_be_bytes());
        let salt = hex(&h.finalize()[..8]);
        format!("$sim$md5${salt}${}", digest(&salt, password))
    }

    fn check_hash(hash: &str, password: &str) -> bool {
        match hash
            .strip_prefix("$sim$md5$")
            .and_then(|r| r.split_once('$'))
        {
            Some((salt, d)) => digest(salt, password) == d,
            None => false,
        }
    }

    /// Checks a SASL PLAIN token against the roles: the logged-in role, or the
    /// AuthenticationError message Cassandra sends.
    pub fn authenticate(&self, token: &[u8]) -> Result<String, String> {
        let (user, pass) = decode_plain(token)?;
        let incorrect = || format!("Provided username {user} and/or password are incorrect");
        let role = self.roles.get(&user).ok_or_else(incorrect)?;
        let hash = role.salted_hash.as_deref().ok_or_else(incorrect)?;
        if !Self::check_hash(hash, &pass) {
            return Err(incorrect());
        }
        if !role.can_login {
            return Err(format!("{user} is not permitted to log in"));
        }
        Ok(user)
    }

    /// The role named `name`.
    pub fn role(&self, name: &str) -> Option<&RoleRecord> {
        self.roles.get(name)
    }

    pub(crate) fn role_mut(&mut self, name: &str) -> Option<&mut RoleRecord> {
        self.roles.get_mut(name)
    }

    pub(crate) fn roles(&self) -> &BTreeMap<String, RoleRecord> {
        &self.roles
    }

    pub(crate) fn insert_role(&mut self, name: &str, r: RoleRecord) {
        self.roles.insert(name.to_owned(), r);
    }

    /// Drops a role: its row, its memberships in other roles and everything granted to it or
    /// on it.
    pub(crate) fn remove_role(&mut self, name: &str) {
        self.roles.remove(name);
        for r in self.roles.values_mut() {
            r.member_of.remove(name);
        }
        self.permissions.retain(|(role, _), _| role != name);
        self.revoke_all_on(&Resource::Role(name.to_owned()));
    }

    /// `role` and every role granted to it, directly or (when `recursive`) through others.
    pub fn roles_of(&self, role: &str, recursive: bool) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo = vec![role.to_owned()];
        let mut first = true;
        while let Some(r) = todo.pop() {
            if !out.insert(r.clone()) {
                continue;
            }
            if let Some(rec) = self.roles.get(&r)
                && (first || recursive)
            {
                todo.extend(rec.member_of.iter().cloned());
            }
            first = false;
        }
        out
    }

    /// Whether `role` or a role granted to it is a superuser.
    pub fn is_super(&self, role: &str) -> bool {
        self.roles_of(role, true)
            .iter()
            .any(|r| self.roles.get(r).is_some_and(|x| x.is_superuser))
    }

    /// Whether `role` (through itself or its granted roles) holds `perm` on `resource` or on
    /// one of its parents. Superusers hold everything.
    pub fn has_permission(&self, role: &str, perm: Permission, resource: &Resource) -> bool {
        if self.is_super(role) {
            return true;
        }
        let chain = resource.chain();
        self.roles_of(role, true).into_iter().any(|r| {
            chain.iter().any(|res| {
                self.permissions
                    .get(&(r.clone(), res.clone()))
                    .is_some_and(|s| s.contains(&perm))
            })
        })
    }

    /// Grants `perms` on `resource` to `role`.
    pub(crate) fn grant(&mut self, role: &str, perms: &[Permission], resource: &Resource) {
        self.permissions
            .entry((role.to_owned(), resource.clone()))
            .or_default()
            .extend(perms.iter().copied());
    }

    /// Revokes `perms` on `resource` from `role`.
    pub(crate) fn revoke(&mut self, role: &str, perms: &[Permission], resource: &Resource) {
        let key = (role.to_owned(), resource.clone());
        if let Some(s) = self.permissions.get_mut(&key) {
            for p in perms {
                s.remove(p);
            }
            if s.is_empty() {
                self.permissions.remove(&key);
            }
        }
    }

    /// Forgets every grant on `resource` and on the resources under it (a dropped keyspace
    /// takes its tables' grants along), as Cassandra's `revokeAllOn`.
    pub(crate) fn revoke_all_on(&mut self, resource: &Resource) {
        self.permissions
            .retain(|(_, res), _| !res.chain().contains(resource));
    }

    /// Every `(role, resource, permission)` granted, in Cassandra's LIST PERMISSIONS order.
    pub(crate) fn grants(&self) -> impl Iterator<Item = (&str, &Resource, Permission)> {
        self.permissions
            .iter()
            .flat_map(|((role, res), perms)| perms.iter().map(move |p| (role.as_str(), res, *p)))
    }

    /// The rows of the `system_auth` table `table`, as Cassandra's role manager and
    /// authorizer write them.
    pub(crate) fn rows(&self, table: &str) -> Vec<Vec<(String, CqlValue)>> {
        let text = |s: &str| CqlValue::Text(s.to_owned());
        let mut out = Vec::new();
        match table {
            "roles" => {
                for (name, r) in &self.roles {
                    let mut row = vec![
                        ("role".to_owned(), text(name)),
                        ("can_login".to_owned(), CqlValue::Boolean(r.can_login)),
                        ("is_superuser".to_owned(), CqlValue::Boolean(r.is_superuser)),
                    ];
                    if !r.member_of.is_empty() {
                        row.push((
                            "member_of".to_owned(),
                            CqlValue::Set(r.member_of.iter().map(|m| text(m)).collect()),
                        ));
                    }
                    if let Some(h) = &r.salted_hash {
                        row.push(("salted_hash".to_owned(), text(h)));
                    }
                    out.push(row);
                }
            }
            "role_members" => {
                for (member, r) in &self.roles {
                    for role in &r.member_of {
                        out.push(vec![
                            ("role".to_owned(), text(role)),
                            ("member".to_owned(), text(member)),
                        ]);
                    }
                }
            }
            "role_permissions" => {
                for ((role, res), perms) in &self.permissions {
                    out.push(vec![
                        ("role".to_owned(), text(role)),
                        ("resource".to_owned(), text(&res.stored_name())),
                        (
                            "permissions".to_owned(),
                            CqlValue::Set(perms.iter().map(|p| text(p.as_str())).collect()),
                        ),
                    ]);
                }
            }
            "resource_role_permissons_index" => {
                for (role, res) in self.permissions.keys() {
                    out.push(vec![
                        ("resource".to_owned(), text(&res.stored_name())),
                        ("role".to_owned(), text(role)),
                    ]);
                }
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens_decode_as_cassandra_does() {
        assert_eq!(decode_plain(b"\0bob\0pw"), Ok(("bob".into(), "pw".into())));
        assert_eq!(
            decode_plain(b"authz\0bob\0pw"),
            Ok(("bob".into(), "pw".into()))
        );
        assert_eq!(
            decode_plain(b"bob\0pw").unwrap_err(),
            "Authentication ID must not be null"
        );
        assert_eq!(
            decode_plain(b"bobpw").unwrap_err(),
            "Password must not be null"
        );
        assert_eq!(
            decode_plain(b"\0bob\0").unwrap_err(),
            "Password must not be null"
        );
        assert_eq!(decode_plain(b"").unwrap_err(), "Password must not be null");
        assert!(
            decode_plain(b"a\0b\0c\0d")
                .unwrap_err()
                .starts_with("Credential format error")
        );
    }

    #[test]
    fn hashes_are_salted_and_checked() {
        let mut s = AuthState::default();
        let a = s.hash("pw");
        let b = s.hash("pw");
        assert_ne!(a, b, "a fresh salt per hash");
        assert!(!a.contains("pw"));
        assert!(AuthState::check_hash(&a, "pw"));
        assert!(!AuthState::check_hash(&a, "pW"));
    }
}
