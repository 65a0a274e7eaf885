//! Role and permission statements (Cassandra's `CassandraRoleManager` and
//! `CassandraAuthorizer`), and the permissions the creator of a keyspace, table or role gets.
//!
//! Each statement is checked as Cassandra's `QueryProcessor` does: access first (what the
//! logged-in role may do), then validation (options, existence, an anonymous client), then
//! execution. Without authentication the client is anonymous: Cassandra's default
//! AllowAllAuthenticator refuses every role statement with "You have not logged in". The
//! checks of data statements are in [`authorize`].

pub(super) mod authorize;

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use super::value::encode;
use super::{ColumnSpec, ExecContext, Outcome, RowsResult};
use crate::auth::{AuthState, ROLE_MANAGER, RoleRecord};
use crate::cql::ast::Statement;
use crate::cql::auth::{AuthStatement, Permission, Resource, RoleOptions};
use crate::error::{CqlError, Result};
use crate::schema::{Catalog, SchemaChangeTarget, SchemaChangeType};
use authorize::ensure;

fn unauthorized(msg: impl Into<String>) -> CqlError {
    CqlError::Unauthorized(msg.into())
}

/// Cassandra's `ensureNotAnonymous`: the logged-in role, or Unauthorized.
fn logged_in(role: Option<&str>) -> Result<&str> {
    role.ok_or_else(|| unauthorized("You have not logged in"))
}

/// `RoleOptions.validate`: the options the role manager supports (PASSWORD only with
/// PasswordAuthenticator; OPTIONS never, with CassandraRoleManager).
fn validate_options(auth: &AuthState, o: &RoleOptions) -> Result<()> {
    let unsupported =
        |what: &str| CqlError::invalid(format!("{ROLE_MANAGER} doesn't support {what}"));
    if o.password.is_some() && !auth.enabled {
        return Err(unsupported("PASSWORD"));
    }
    if o.options.is_some() {
        return Err(unsupported("OPTIONS"));
    }
    Ok(())
}

fn is_super(auth: &AuthState, role: Option<&str>) -> bool {
    role.is_some_and(|r| auth.is_super(r))
}

fn must_exist(auth: &AuthState, name: &str, shown: &str) -> Result<()> {
    if auth.role(name).is_none() {
        return Err(CqlError::invalid(format!("{shown} doesn't exist")));
    }
    Ok(())
}

/// Qualifies a table resource with the current keyspace and checks that it exists.
fn qualify(cat: &Catalog, r: &Resource, keyspace: Option<&str>) -> Result<Resource> {
    let r = match r {
        Resource::Table(None, t) => match keyspace {
            Some(k) => Resource::Table(Some(k.to_owned()), t.clone()),
            None => {
                return Err(CqlError::invalid(
                    "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
                ));
            }
        },
        other => other.clone(),
    };
    let exists = match &r {
        Resource::Keyspace(k) => cat.keyspace(k).is_some(),
        Resource::Table(Some(k), t) => cat.table(k, t).is_some(),
        Resource::Role(name) => cat.auth().role(name).is_some(),
        _ => true,
    };
    if !exists {
        return Err(CqlError::invalid(format!("Resource {r} doesn't exist")));
    }
    Ok(r)
}

/// Runs a role or permission statement as `ctx.role` (anonymous when `None`).
pub(super) fn execute(
    cat: &mut Catalog,
    st: &AuthStatement,
    ctx: &ExecContext<'_>,
) -> Result<Outcome> {
    let me = ctx.role;
    let auth = cat.auth();
    match st {
        AuthStatement::CreateRole {
            name,
            if_not_exists,
            options,
        } => {
            ensure(auth, me, Permission::Create, &Resource::AllRoles)?;
            if options.superuser == Some(true) && !is_super(auth, me) {
                return Err(unauthorized(
                    "Only superusers can create a role with superuser status",
                ));
            }
            validate_options(auth, options)?;
            if name.is_empty() {
                return Err(CqlError::invalid("Role name can't be an empty string"));
            }
            let me = logged_in(me)?;
            if auth.role(name).is_some() {
                if *if_not_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::invalid(format!("{name} already exists")));
            }
            let auth = cat.auth_mut();
            let salted_hash = options.password.as_deref().map(|p| auth.hash(p));
            auth.insert_role(
                name,
                RoleRecord {
                    can_login: options.login.unwrap_or(false),
                    is_superuser: options.superuser.unwrap_or(false),
                    member_of: Default::default(),
                    salted_hash,
                },
            );
            let r = Resource::Role(name.clone());
            auth.grant(me, r.applicable(), &r);
            Ok(Outcome::Void)
        }
        AuthStatement::AlterRole { name, options } => {
            if let Some(me) = me
                && options.superuser.is_some()
                && auth.roles_of(me, true).contains(name)
            {
                return Err(unauthorized(
                    "You aren't allowed to alter your own superuser status or that of a role granted to you",
                ));
            }
            if options.superuser.is_some() && !is_super(auth, me) {
                return Err(unauthorized(
                    "Only superusers are allowed to alter superuser status",
                ));
            }
            if !is_super(auth, me) {
                if me == Some(name.as_str()) {
                    if options.login.is_some() {
                        return Err(unauthorized("You aren't allowed to alter LOGIN"));
                    }
                    if options.options.is_some() {
                        return Err(unauthorized("You aren't allowed to alter OPTIONS"));
                    }
                } else {
                    ensure(auth, me, Permission::Alter, &Resource::Role(name.clone()))?;
                }
            }
            validate_options(auth, options)?;
            if *options == RoleOptions::default() {
                return Err(CqlError::Syntax("ALTER [ROLE|USER] can't be empty".into()));
            }
            logged_in(me)?;
            must_exist(auth, name, name)?;
            let hash = options.password.as_deref().map(|p| cat.auth_mut().hash(p));
            if let Some(r) = cat.auth_mut().role_mut(name) {
                if let Some(l) = options.login {
                    r.can_login = l;
                }
                if let Some(s) = options.superuser {
                    r.is_superuser = s;
                }
                if hash.is_some() {
                    r.salted_hash = hash;
                }
            }
            Ok(Outcome::Void)
        }
        AuthStatement::DropRole { name, if_exists } => {
            ensure(auth, me, Permission::Drop, &Resource::Role(name.clone()))?;
            if auth.role(name).is_some() && auth.is_super(name) && !is_super(auth, me) {
                return Err(unauthorized(
                    "Only superusers can drop a role with superuser status",
                ));
            }
            let me = logged_in(me)?;
            if auth.role(name).is_none() {
                if *if_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::invalid(format!("{name} doesn't exist")));
            }
            if me == name {
                return Err(CqlError::invalid(
                    "Cannot DROP primary role for current login",
                ));
            }
            cat.auth_mut().remove_role(name);
            Ok(Outcome::Void)
        }
        AuthStatement::GrantRole { role, grantee }
        | AuthStatement::RevokeRole {
            role,
            revokee: grantee,
        } => {
            ensure(
                auth,
                me,
                Permission::Authorize,
                &Resource::Role(role.clone()),
            )?;
            logged_in(me)?;
            must_exist(auth, role, role)?;
            must_exist(auth, grantee, grantee)?;
            let grant = matches!(st, AuthStatement::GrantRole { .. });
            if grant {
                if auth.roles_of(grantee, true).contains(role) {
                    return Err(CqlError::invalid(format!(
                        "{grantee} is a member of {role}"
                    )));
                }
                if auth.roles_of(role, true).contains(grantee) {
                    return Err(CqlError::invalid(format!(
                        "{role} is a member of {grantee}"
                    )));
                }
            } else if !auth.roles_of(grantee, false).contains(role) || role == grantee {
                return Err(CqlError::invalid(format!(
                    "{grantee} is not a member of {role}"
                )));
            }
            if let Some(r) = cat.auth_mut().role_mut(grantee) {
                if grant {
                    r.member_of.insert(role.clone());
                } else {
                    r.member_of.remove(role);
                }
            }
            Ok(Outcome::Void)
        }
        AuthStatement::GrantPermissions {
            permissions,
            resource,
            role,
        }
        | AuthStatement::RevokePermissions {
            permissions,
            resource,
            role,
        } => {
            let perms = applicable(permissions, resource)?;
            let resource = match resource {
                Resource::Table(None, t) => match ctx.keyspace {
                    Some(k) => Resource::Table(Some(k.to_owned()), t.clone()),
                    None => resource.clone(),
                },
                other => other.clone(),
            };
            ensure(auth, me, Permission::Authorize, &resource)?;
            for p in &perms {
                ensure(auth, me, *p, &resource)?;
            }
            logged_in(me)?;
            let resource = qualify(cat, &resource, ctx.keyspace)?;
            if auth.role(role).is_none() {
                return Err(CqlError::invalid(format!("Role {role} doesn't exist")));
            }
            if matches!(st, AuthStatement::GrantPermissions { .. }) {
                cat.auth_mut().grant(role, &perms, &resource);
            } else {
                cat.auth_mut().revoke(role, &perms, &resource);
            }
            Ok(Outcome::Void)
        }
        AuthStatement::ListRoles {
            of,
            recursive,
            users,
        } => {
            let me = logged_in(me)?;
            if let Some(of) = of {
                must_exist(auth, of, &Resource::Role(of.clone()).to_string())?;
            }
            let can_describe = auth.has_permission(me, Permission::Describe, &Resource::AllRoles);
            let names: Vec<String> = match (of, can_describe) {
                (None, true) => auth.roles().keys().cloned().collect(),
                (Some(of), true) => auth.roles_of(of, *recursive).into_iter().collect(),
                (None, false) => auth.roles_of(me, *recursive).into_iter().collect(),
                (Some(of), false) => {
                    if !auth.roles_of(me, true).contains(of) {
                        return Err(unauthorized(format!(
                            "You are not authorized to view roles granted to {of} "
                        )));
                    }
                    auth.roles_of(of, *recursive).into_iter().collect()
                }
            };
            list_roles(auth, &names, *users)
        }
        AuthStatement::ListPermissions {
            permissions,
            resource,
            of,
            recursive,
        } => {
            let me = logged_in(me)?;
            let resource = resource
                .as_ref()
                .map(|r| qualify(cat, r, ctx.keyspace))
                .transpose()?;
            if let Some(of) = of {
                must_exist(auth, of, &Resource::Role(of.clone()).to_string())?;
            }
            let visible = match of {
                Some(of) => auth.is_super(me) || auth.roles_of(me, true).contains(of),
                None => auth.is_super(me),
            };
            if !visible {
                return Err(unauthorized(format!(
                    "You are not authorized to view {}'s permissions",
                    of.as_deref().unwrap_or("everyone")
                )));
            }
            let roles = of.as_ref().map(|o| auth.roles_of(o, true));
            let resources = resource.map(|r| if *recursive { r.chain() } else { vec![r] });
            list_permissions(auth, permissions, roles.as_ref(), resources.as_deref())
        }
    }
}

/// The asked permissions the resource supports (all of them for `ALL`), or Cassandra's
/// syntax error when none is.
fn applicable(asked: &[Permission], resource: &Resource) -> Result<Vec<Permission>> {
    let perms: Vec<Permission> = asked
        .iter()
        .copied()
        .filter(|p| resource.applicable().contains(p))
        .collect();
    if perms.is_empty() {
        return Err(CqlError::Syntax(format!(
            "Resource type {} does not support any of the requested permissions",
            resource.kind_name()
        )));
    }
    Ok(perms)
}

fn spec(table: &str, name: &str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "system_auth".to_owned().into(),
        table: table.to_owned().into(),
        name: name.to_owned().into(),
        typ,
    }
}

fn cell(v: &CqlValue, t: &ColumnType) -> Result<Option<Bytes>> {
    encode(v, t).map(Some)
}

/// `LIST ROLES` (role, super, login, options) or `LIST USERS` (name, super, login roles
/// only); Void when nothing is listed, as Cassandra answers.
fn list_roles(auth: &AuthState, names: &[String], users: bool) -> Result<Outcome> {
    let options = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text));
    let columns = if users {
        vec![
            spec("users", "name", ColumnType::Text),
            spec("users", "super", ColumnType::Boolean),
        ]
    } else {
        vec![
            spec("roles", "role", ColumnType::Text),
            spec("roles", "super", ColumnType::Boolean),
            spec("roles", "login", ColumnType::Boolean),
            spec("roles", "options", options.clone()),
        ]
    };
    let mut rows = Vec::new();
    for name in names {
        let Some(r) = auth.role(name) else { continue };
        let text = cell(&CqlValue::Text(name.clone()), &ColumnType::Text)?;
        if users {
            if !r.can_login {
                continue;
            }
            rows.push(vec![
                text,
                cell(
                    &CqlValue::Boolean(auth.is_super(name)),
                    &ColumnType::Boolean,
                )?,
            ]);
        } else {
            rows.push(vec![
                text,
                cell(&CqlValue::Boolean(r.is_superuser), &ColumnType::Boolean)?,
                cell(&CqlValue::Boolean(r.can_login), &ColumnType::Boolean)?,
                cell(&CqlValue::Map(Vec::new()), &options)?,
            ]);
        }
    }
    if names.is_empty() {
        return Ok(Outcome::Void);
    }
    Ok(Outcome::Rows(RowsResult {
        columns,
        rows,
        paging_state: None,
    }))
}

/// `LIST PERMISSIONS`: role, username, resource, permission, sorted as Cassandra sorts them
/// (role, resource name, permission); Void when nothing matches.
fn list_permissions(
    auth: &AuthState,
    asked: &[Permission],
    roles: Option<&std::collections::BTreeSet<String>>,
    resources: Option<&[Resource]>,
) -> Result<Outcome> {
    let mut found: Vec<(&str, String, &Resource, Permission)> = auth
        .grants()
        .filter(|(role, res, p)| {
            asked.contains(p)
                && roles.is_none_or(|rs| rs.contains(*role))
                && resources.is_none_or(|rs| rs.contains(res))
        })
        .map(|(role, res, p)| (role, res.stored_name(), res, p))
        .collect();
    found.sort_by(|a, b| (a.0, &a.1, a.3).cmp(&(b.0, &b.1, b.3)));
    if found.is_empty() {
        return Ok(Outcome::Void);
    }
    let t = "permissions";
    let columns = vec![
        spec(t, "role", ColumnType::Text),
        spec(t, "username", ColumnType::Text),
        spec(t, "resource", ColumnType::Text),
        spec(t, "permission", ColumnType::Text),
    ];
    let text = |s: &str| cell(&CqlValue::Text(s.to_owned()), &ColumnType::Text);
    let rows = found
        .into_iter()
        .map(|(role, _, res, p)| {
            Ok(vec![
                text(role)?,
                text(role)?,
                text(&res.to_string())?,
                text(p.as_str())?,
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Outcome::Rows(RowsResult {
        columns,
        rows,
        paging_state: None,
    }))
}

/// After a successful statement: the creator of a keyspace or table gets every permission
/// on it, and a dropped keyspace or table takes its grants along (Cassandra's
/// `grantPermissionsToCreator` and `revokeAllOn`).
pub(super) fn after_schema_change(
    cat: &mut Catalog,
    st: &Statement,
    outcome: &Outcome,
    role: Option<&str>,
) {
    let Outcome::SchemaChange(c) = outcome else {
        return;
    };
    let resource = match c.target {
        SchemaChangeTarget::Keyspace => Resource::Keyspace(c.keyspace.clone()),
        SchemaChangeTarget::Table
            if !matches!(st, Statement::CreateView(_) | Statement::DropView { .. }) =>
        {
            Resource::Table(Some(c.keyspace.clone()), c.name.clone())
        }
        _ => return,
    };
    match c.change_type {
        SchemaChangeType::Created => {
            if let Some(role) = role {
                cat.auth_mut().grant(role, resource.applicable(), &resource);
            }
        }
        SchemaChangeType::Dropped => cat.auth_mut().revoke_all_on(&resource),
        _ => {}
    }
}
