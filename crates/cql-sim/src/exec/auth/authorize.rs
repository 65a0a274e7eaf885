//! The permissions a data or schema statement needs (Cassandra's `checkAccess`): SELECT to
//! read, MODIFY to write, CREATE/ALTER/DROP for schema changes, each held on the resource or
//! a parent (`<table k.t>` < `<keyspace k>` < `<all keyspaces>`), directly or through granted
//! roles. Superusers need none, and anyone may read `system` and `system_schema`.

use crate::auth::AuthState;
use crate::cql::ast::{Conditions, QualifiedName, Statement};
use crate::cql::auth::{Permission, Resource};
use crate::error::{CqlError, Result};
use crate::schema::Catalog;

/// Keyspaces every logged-in role may read (drivers read their metadata from them).
const READABLE_KEYSPACES: [&str; 2] = ["system", "system_schema"];

/// Cassandra's `ensurePermission`: fine for an anonymous client (no authorizer then) or a role
/// holding `perm` on `resource` or a parent; otherwise Unauthorized with Cassandra's message.
pub(crate) fn ensure(
    auth: &AuthState,
    role: Option<&str>,
    perm: Permission,
    resource: &Resource,
) -> Result<()> {
    match role {
        Some(r) if !auth.has_permission(r, perm, resource) => Err(CqlError::Unauthorized(format!(
            "User {r} has no {} permission on {resource} or any of its parents",
            perm.as_str()
        ))),
        _ => Ok(()),
    }
}

/// The table a name resolves to, as a resource (its base table for a view), or `None` when
/// it does not exist (execution then reports that).
fn table(cat: &Catalog, name: &QualifiedName, keyspace: Option<&str>) -> Option<Resource> {
    let t = cat.table_or_err(name, keyspace).ok()?;
    let base = t
        .view
        .as_ref()
        .map_or(t.name.as_str(), |v| v.base_table_name.as_str());
    Some(Resource::Table(Some(t.keyspace.clone()), base.to_owned()))
}

fn keyspace_of(name: &QualifiedName, keyspace: Option<&str>) -> Option<Resource> {
    name.keyspace
        .as_deref()
        .or(keyspace)
        .map(|k| Resource::Keyspace(k.to_owned()))
}

/// Checks that `role` may run `st` (role statements check themselves when they run).
pub(crate) fn statement(
    cat: &Catalog,
    role: &str,
    st: &Statement,
    keyspace: Option<&str>,
) -> Result<()> {
    let auth = cat.auth();
    if auth.is_super(role) {
        return Ok(());
    }
    let need = |perm: Permission, r: Option<Resource>| match r {
        Some(r) => ensure(auth, Some(role), perm, &r),
        None => Ok(()),
    };
    match st {
        Statement::Select(s) => {
            let t = table(cat, &s.table, keyspace);
            if let Some(Resource::Table(Some(k), _)) = &t
                && READABLE_KEYSPACES.contains(&k.as_str())
            {
                return Ok(());
            }
            need(Permission::Select, t)
        }
        Statement::Insert {
            table: name,
            if_not_exists,
            ..
        } => {
            let t = table(cat, name, keyspace);
            if *if_not_exists {
                need(Permission::Select, t.clone())?;
            }
            need(Permission::Modify, t)
        }
        Statement::Update {
            table: name,
            conditions,
            ..
        }
        | Statement::Delete {
            table: name,
            conditions,
            ..
        } => {
            let t = table(cat, name, keyspace);
            if *conditions != Conditions::None {
                need(Permission::Select, t.clone())?;
            }
            need(Permission::Modify, t)
        }
        Statement::Batch { statements, .. } => {
            for s in statements {
                statement(cat, role, s, keyspace)?;
            }
            Ok(())
        }
        Statement::Truncate(name) => need(Permission::Modify, table(cat, name, keyspace)),
        Statement::CreateKeyspace { .. } => need(Permission::Create, Some(Resource::AllKeyspaces)),
        Statement::AlterKeyspace { name, .. } => {
            need(Permission::Alter, Some(Resource::Keyspace(name.clone())))
        }
        Statement::DropKeyspace { name, .. } => {
            need(Permission::Drop, Some(Resource::Keyspace(name.clone())))
        }
        Statement::CreateTable(ct) => need(Permission::Create, keyspace_of(&ct.name, keyspace)),
        Statement::AlterTable { name, .. } => need(Permission::Alter, table(cat, name, keyspace)),
        Statement::DropTable { name, .. } => need(Permission::Drop, table(cat, name, keyspace)),
        Statement::CreateType { name, .. } => need(Permission::Create, keyspace_of(name, keyspace)),
        Statement::DropType { name, .. } => need(Permission::Drop, keyspace_of(name, keyspace)),
        Statement::AlterUserType { name, .. } => {
            need(Permission::Alter, keyspace_of(name, keyspace))
        }
        Statement::CreateIndex { table: name, .. } => {
            need(Permission::Alter, table(cat, name, keyspace))
        }
        Statement::DropIndex { name, .. } => {
            let on = name.keyspace.as_deref().or(keyspace).and_then(|k| {
                let t = cat
                    .keyspace(k)?
                    .tables
                    .values()
                    .find(|t| t.indexes.iter().any(|i| i.name == name.name))?;
                Some(Resource::Table(Some(k.to_owned()), t.name.clone()))
            });
            need(Permission::Alter, on)
        }
        Statement::CreateView(v) => need(Permission::Alter, table(cat, &v.base, keyspace)),
        Statement::AlterView { name, .. } | Statement::DropView { name, .. } => {
            need(Permission::Alter, table(cat, name, keyspace))
        }
        _ => Ok(()),
    }
}
