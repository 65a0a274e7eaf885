//! Role and permission statements, in Cassandra's grammar: `CREATE/ALTER/DROP ROLE` and
//! `USER`, `GRANT`/`REVOKE` of roles and permissions, `LIST ROLES`, `LIST USERS` and
//! `LIST PERMISSIONS`.

use super::{PResult, Parser};
use crate::cql::ast::{Statement, Term};
use crate::cql::auth::{AuthStatement, Permission, Resource, RoleOptions};
use crate::cql::lexer::Tok;
use crate::error::CqlError;

fn auth(s: AuthStatement) -> PResult<Statement> {
    Ok(Statement::Auth(s))
}

impl Parser<'_> {
    /// A role name: an identifier (lowercased), a quoted name or a string constant (kept).
    fn role_name(&mut self) -> PResult<String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => self.ident(),
        }
    }

    fn string_constant(&mut self) -> PResult<String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.expected("STRING_LITERAL")),
        }
    }

    /// `CREATE ROLE` / `CREATE USER` after `CREATE`, or `None` when neither follows.
    pub(super) fn create_role(&mut self) -> Option<PResult<Statement>> {
        let user = self.eat_kw("user");
        if !user && !self.eat_kw("role") {
            return None;
        }
        Some((|| {
            let if_not_exists = self.if_not_exists()?;
            let name = self.role_name()?;
            let options = if user {
                self.user_options()?
            } else {
                self.role_options()?
            };
            auth(AuthStatement::CreateRole {
                name,
                if_not_exists,
                options,
            })
        })())
    }

    /// `ALTER ROLE` / `ALTER USER` after `ALTER`, or `None` when neither follows.
    pub(super) fn alter_role(&mut self) -> Option<PResult<Statement>> {
        let user = self.eat_kw("user");
        if !user && !self.eat_kw("role") {
            return None;
        }
        Some((|| {
            let name = self.role_name()?;
            let mut options = if user {
                self.user_options()?
            } else {
                self.role_options()?
            };
            if user {
                // ALTER USER changes only what it names; CREATE USER implies LOGIN.
                options.login = None;
            }
            auth(AuthStatement::AlterRole { name, options })
        })())
    }

    /// `DROP ROLE` / `DROP USER` after `DROP`, or `None` when neither follows.
    pub(super) fn drop_role(&mut self) -> Option<PResult<Statement>> {
        if !(self.eat_kw("user") || self.eat_kw("role")) {
            return None;
        }
        Some((|| {
            let if_exists = self.if_exists()?;
            let name = self.role_name()?;
            auth(AuthStatement::DropRole { name, if_exists })
        })())
    }

    /// `[WITH option = value [AND ...]]` of CREATE/ALTER ROLE.
    fn role_options(&mut self) -> PResult<RoleOptions> {
        let mut o = RoleOptions::default();
        if !self.eat_kw("with") {
            return Ok(o);
        }
        loop {
            let at = self.pos;
            let key = self.any_ident()?;
            self.expect_sym("=")?;
            let dup = match key.as_str() {
                "password" => o.password.replace(self.string_constant()?).is_some(),
                "login" => o.login.replace(self.boolean()?).is_some(),
                "superuser" => o.superuser.replace(self.boolean()?).is_some(),
                "options" => o.options.replace(self.option_map()?).is_some(),
                _ => {
                    return Err(self.err_at(at, &format!("no viable alternative at input '{key}'")));
                }
            };
            if dup {
                return Err(CqlError::Syntax(format!(
                    "Multiple definition for property {}",
                    key.to_ascii_uppercase()
                )));
            }
            if !self.eat_kw("and") {
                return Ok(o);
            }
        }
    }

    /// The legacy `[WITH PASSWORD '...'] [SUPERUSER | NOSUPERUSER]` of CREATE/ALTER USER;
    /// a user can log in and is not a superuser unless said.
    fn user_options(&mut self) -> PResult<RoleOptions> {
        let mut o = RoleOptions {
            login: Some(true),
            ..RoleOptions::default()
        };
        if self.eat_kw("with") {
            self.expect_kw("password")?;
            o.password = Some(self.string_constant()?);
        }
        if self.eat_kw("superuser") {
            o.superuser = Some(true);
        } else if self.eat_kw("nosuperuser") {
            o.superuser = Some(false);
        }
        Ok(o)
    }

    fn boolean(&mut self) -> PResult<bool> {
        match self.term()? {
            Term::Bool(b) => Ok(b),
            _ => Err(CqlError::Syntax(
                "Invalid value for property: it must be a boolean".into(),
            )),
        }
    }

    fn option_map(&mut self) -> PResult<Vec<(String, String)>> {
        let Term::Map(entries) = self.term()? else {
            return Err(CqlError::Syntax(
                "Invalid value for property 'OPTIONS'. It must be a map".into(),
            ));
        };
        entries
            .into_iter()
            .map(|e| match e {
                (Term::Str(k), Term::Str(v)) => Ok((k, v)),
                _ => Err(CqlError::Syntax(
                    "Invalid value for property 'OPTIONS'. It must be a map of strings".into(),
                )),
            })
            .collect()
    }

    /// `ALL [PERMISSIONS]` or one permission `[PERMISSION]`.
    fn permission_or_all(&mut self) -> PResult<Vec<Permission>> {
        if self.eat_kw("all") {
            self.eat_kw("permissions");
            return Ok(Permission::ALL.to_vec());
        }
        let p = match self.peek() {
            Some(Tok::Ident(s)) => Permission::from_name(s),
            _ => None,
        };
        let Some(p) = p else {
            return Err(self.expected("a permission"));
        };
        self.pos += 1;
        self.eat_kw("permission");
        Ok(vec![p])
    }

    /// Whether a permission (or `ALL`) starts here, rather than a role name.
    fn at_permission(&self) -> bool {
        match self.peek() {
            Some(Tok::Ident(s)) if s == "all" => true,
            Some(Tok::Ident(s)) => {
                Permission::from_name(s).is_some()
                    && (self.is_kw_at(1, "on")
                        || self.is_kw_at(1, "permission")
                        || self.is_kw_at(1, "of")
                        || !matches!(self.peek_at(1), Some(Tok::Ident(_))))
            }
            _ => false,
        }
    }

    /// `ALL KEYSPACES`, `KEYSPACE k`, `[TABLE] [k.]t`, `ALL ROLES`, `ROLE r`, `ALL FUNCTIONS`.
    fn resource(&mut self) -> PResult<Resource> {
        if self.eat_kw("all") {
            if self.eat_kw("keyspaces") {
                return Ok(Resource::AllKeyspaces);
            }
            if self.eat_kw("roles") {
                return Ok(Resource::AllRoles);
            }
            if self.eat_kw("functions") {
                return Ok(Resource::AllFunctions);
            }
            return Err(self.expected("K_KEYSPACES"));
        }
        if self.eat_kw("keyspace") {
            return Ok(Resource::Keyspace(self.any_ident()?));
        }
        if self.eat_kw("role") {
            return Ok(Resource::Role(self.role_name()?));
        }
        self.eat_kw("table");
        let name = self.qualified_name()?;
        Ok(Resource::Table(name.keyspace, name.name))
    }

    /// `GRANT ...` after `GRANT`.
    pub(super) fn grant(&mut self) -> PResult<Statement> {
        if self.at_permission() {
            let permissions = self.permission_or_all()?;
            self.expect_kw("on")?;
            let resource = self.resource()?;
            self.expect_kw("to")?;
            let role = self.role_name()?;
            return auth(AuthStatement::GrantPermissions {
                permissions,
                resource,
                role,
            });
        }
        let role = self.role_name()?;
        self.expect_kw("to")?;
        let grantee = self.role_name()?;
        auth(AuthStatement::GrantRole { role, grantee })
    }

    /// `REVOKE ...` after `REVOKE`.
    pub(super) fn revoke(&mut self) -> PResult<Statement> {
        if self.at_permission() {
            let permissions = self.permission_or_all()?;
            self.expect_kw("on")?;
            let resource = self.resource()?;
            self.expect_kw("from")?;
            let role = self.role_name()?;
            return auth(AuthStatement::RevokePermissions {
                permissions,
                resource,
                role,
            });
        }
        let role = self.role_name()?;
        self.expect_kw("from")?;
        let revokee = self.role_name()?;
        auth(AuthStatement::RevokeRole { role, revokee })
    }

    /// `LIST ROLES | USERS | permissions ...` after `LIST`.
    pub(super) fn list(&mut self) -> PResult<Statement> {
        if self.eat_kw("users") {
            return auth(AuthStatement::ListRoles {
                of: None,
                recursive: true,
                users: true,
            });
        }
        if self.eat_kw("roles") {
            let of = if self.eat_kw("of") {
                Some(self.role_name()?)
            } else {
                None
            };
            let recursive = !self.eat_kw("norecursive");
            return auth(AuthStatement::ListRoles {
                of,
                recursive,
                users: false,
            });
        }
        let permissions = self.permission_or_all()?;
        let resource = if self.eat_kw("on") {
            Some(self.resource()?)
        } else {
            None
        };
        let of = if self.eat_kw("of") {
            Some(self.role_name()?)
        } else {
            None
        };
        let recursive = !self.eat_kw("norecursive");
        auth(AuthStatement::ListPermissions {
            permissions,
            resource,
            of,
            recursive,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::cql::ast::Statement;
    use crate::cql::auth::{AuthStatement, Permission, Resource, RoleOptions};
    use crate::cql::parse_statement;

    fn auth(q: &str) -> AuthStatement {
        match parse_statement(q).map(|p| p.statement) {
            Ok(Statement::Auth(a)) => a,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn role_and_user_forms() {
        assert_eq!(
            auth(
                "CREATE ROLE IF NOT EXISTS 'Mixed' WITH PASSWORD = 'p' AND LOGIN = true AND SUPERUSER = false"
            ),
            AuthStatement::CreateRole {
                name: "Mixed".into(),
                if_not_exists: true,
                options: RoleOptions {
                    password: Some("p".into()),
                    login: Some(true),
                    superuser: Some(false),
                    options: None,
                },
            }
        );
        assert_eq!(
            auth("CREATE USER Bob WITH PASSWORD 'p' SUPERUSER"),
            AuthStatement::CreateRole {
                name: "bob".into(),
                if_not_exists: false,
                options: RoleOptions {
                    password: Some("p".into()),
                    login: Some(true),
                    superuser: Some(true),
                    options: None,
                },
            }
        );
        assert_eq!(
            auth("ALTER USER bob NOSUPERUSER"),
            AuthStatement::AlterRole {
                name: "bob".into(),
                options: RoleOptions {
                    superuser: Some(false),
                    ..RoleOptions::default()
                },
            }
        );
        assert!(parse_statement("CREATE ROLE r WITH LOGIN = true AND LOGIN = false").is_err());
        assert!(parse_statement("CREATE ROLE r WITH COLOUR = 'red'").is_err());
    }

    #[test]
    fn grants_tell_permissions_from_roles() {
        assert_eq!(
            auth("GRANT readers TO alice"),
            AuthStatement::GrantRole {
                role: "readers".into(),
                grantee: "alice".into(),
            }
        );
        assert_eq!(
            auth("GRANT ALL PERMISSIONS ON KEYSPACE ks TO alice"),
            AuthStatement::GrantPermissions {
                permissions: Permission::ALL.to_vec(),
                resource: Resource::Keyspace("ks".into()),
                role: "alice".into(),
            }
        );
        assert_eq!(
            auth("REVOKE SELECT ON t FROM alice"),
            AuthStatement::RevokePermissions {
                permissions: vec![Permission::Select],
                resource: Resource::Table(None, "t".into()),
                role: "alice".into(),
            }
        );
        assert_eq!(
            auth("LIST MODIFY PERMISSION ON ALL KEYSPACES OF alice NORECURSIVE"),
            AuthStatement::ListPermissions {
                permissions: vec![Permission::Modify],
                resource: Some(Resource::AllKeyspaces),
                of: Some("alice".into()),
                recursive: false,
            }
        );
        assert_eq!(
            auth("LIST ROLES OF alice NORECURSIVE"),
            AuthStatement::ListRoles {
                of: Some("alice".into()),
                recursive: false,
                users: false,
            }
        );
    }
}
