//! Partners and their API keys: the observatory's management queries and
//! mutations, and `viewer` (who the caller is).

pub mod auth;
pub mod store;

use crate::association::Association;
use crate::context::{db, scope};
use crate::scalars::DateTime;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use entity::{api_key, enums as db_enums, partner};

/// Kind of organisation that exchanges data with the observatory.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db_enums::PartnerKind")]
pub enum PartnerKind {
    /// A ministry.
    Ministry,
    /// A fund (for example Jaida) or a foundation.
    Fund,
    /// The federation of microcredit associations.
    Federation,
    /// A reporting association (role `ASSOCIATION`).
    Association,
    /// The observatory itself (role `OBSERVATORY`).
    Observatory,
    /// Any other partner.
    Other,
}

/// What a caller may read (see the README's table).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Role", remote = "crate::scope::Role")]
pub enum RoleValue {
    /// No key: released sector and regional aggregates, small groups suppressed, the registries.
    Public,
    /// A ministry, fund or federation: released data with per-association breakdowns.
    Partner,
    /// An association: its own data, released or not, and the sector as the public sees it.
    Association,
    /// The observatory: everything, and the management of partners, keys and releases.
    Observatory,
}

/// An organisation that exchanges data with the observatory.
pub struct Partner(pub partner::Model);

/// An organisation that exchanges data with the observatory.
#[Object]
impl Partner {
    /// Stable code of the partner.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name of the partner.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Kind of partner; it decides the role of its keys.
    async fn kind(&self) -> PartnerKind {
        self.0.kind.into()
    }
    /// The association, for an association partner.
    async fn association(&self, ctx: &Context<'_>) -> Result<Option<Association>> {
        match self.0.association_id {
            Some(id) => Ok(Some(crate::association::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// When the partner was registered.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// An API key of a partner. The secret is never stored, only its hash; the prefix identifies the key.
pub struct ApiKey(pub api_key::Model, pub String);

/// An API key of a partner. The secret is never stored, only its hash; the prefix identifies the key.
#[Object]
impl ApiKey {
    /// The key's first characters, kept in clear to recognise it (in lists, logs and leak reports).
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// Code of the partner the key belongs to.
    async fn partner(&self) -> &str {
        &self.1
    }
    /// What the key is for.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Scopes of the key: `read`, `write` (submissions), `admin` (partners, keys, releases; observatory only).
    async fn scopes(&self) -> Vec<String> {
        self.0.scopes.split_whitespace().map(str::to_owned).collect()
    }
    /// When the key was issued.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// When the key expires; null when it does not.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(DateTime)
    }
    /// When the key was revoked; null while it is not.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(DateTime)
    }
    /// When the key was last used (to the minute); null if never.
    async fn last_used_at(&self) -> Option<DateTime> {
        self.0.last_used_at.map(DateTime)
    }
}

/// A key just issued. The secret is shown here once and never again.
#[derive(SimpleObject)]
pub struct IssuedKey {
    /// The key to send as `Authorization: Bearer <secret>`. Store it safely: it cannot be shown again.
    pub secret: String,
    /// The key's record.
    pub key: ApiKey,
}

/// Who the caller is, as the API sees it.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The caller's role.
    pub role: RoleValue,
    /// Code of the caller's partner; null for the public.
    pub partner: Option<String>,
    /// Prefix of the key used; null for the public.
    pub key_prefix: Option<String>,
}

/// A new partner.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// Stable code (letters, digits, '-' or '_').
    pub code: String,
    /// Name of the partner.
    pub name: String,
    /// Kind of partner; it decides the role of its keys.
    pub kind: PartnerKind,
    /// Code of the association, for an ASSOCIATION partner.
    pub association: Option<String>,
}

/// A key to issue.
#[derive(InputObject)]
pub struct IssueApiKeyInput {
    /// Code of the partner the key is for.
    pub partner: String,
    /// What the key is for (shown in lists).
    pub label: String,
    /// Days until the key expires (1 to 3650); none for a key that does not expire.
    pub expires_in_days: Option<i32>,
    /// Scopes: `read` (default), `write`, `admin`.
    pub scopes: Option<Vec<String>>,
}

/// Queries on partners and keys.
#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// Who the caller is: the role its key gives (PUBLIC without a key).
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let scope = scope(ctx);
        let partner = match scope.partner_id {
            Some(id) => Some(store::partner_code(db(ctx), id).await?),
            None => None,
        };
        Ok(Viewer {
            role: scope.role.into(),
            partner,
            key_prefix: scope.key_prefix.clone(),
        })
    }

    /// Every partner (observatory only).
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<Partner>> {
        scope(ctx).require_observatory("the list of partners")?;
        Ok(store::list_partners(db(ctx)).await?.into_iter().map(Partner).collect())
    }

    /// API keys, of one partner or of all (observatory only). Secrets are never shown.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of a partner; all partners when absent.")] partner: Option<String>,
    ) -> Result<Vec<ApiKey>> {
        scope(ctx).require_observatory("the list of keys")?;
        let keys = store::list_keys(db(ctx), partner.as_deref()).await?;
        Ok(keys.into_iter().map(|(key, code)| ApiKey(key, code)).collect())
    }
}

/// The observatory's management mutations (an observatory key with the `admin` scope).
#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Registers a partner. Audited.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to register.")] input: CreatePartnerInput,
    ) -> Result<Partner> {
        let actor = scope(ctx);
        actor.require_observatory("creating partners")?;
        let new = store::NewPartner {
            code: input.code,
            name: input.name,
            kind: input.kind.into(),
            association: input.association,
        };
        Ok(Partner(store::create_partner(db(ctx), actor, new).await?))
    }

    /// Issues a key for a partner and returns its secret, once. Audited.
    async fn issue_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key to issue.")] input: IssueApiKeyInput,
    ) -> Result<IssuedKey> {
        let actor = scope(ctx);
        actor.require_observatory("issuing keys")?;
        let expires_at = match input.expires_in_days {
            Some(days) if (1..=3650).contains(&days) => Some(chrono::Utc::now() + chrono::Duration::days(days.into())),
            Some(_) => {
                return Err(crate::error::ApiError::bad_input("`expiresInDays` must be between 1 and 3650").into());
            }
            None => None,
        };
        let new = store::NewKey {
            partner: input.partner.clone(),
            label: input.label,
            expires_at,
            scopes: input.scopes.unwrap_or_default(),
        };
        let (key, secret) = store::issue_key(db(ctx), actor, new).await?;
        Ok(IssuedKey {
            secret,
            key: ApiKey(key, input.partner),
        })
    }

    /// Revokes a key at once; requests with it answer UNAUTHENTICATED from then on. Audited.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Prefix of the key (its first 12 characters).")] prefix: String,
    ) -> Result<ApiKey> {
        let actor = scope(ctx);
        actor.require_observatory("revoking keys")?;
        let key = store::revoke_key(db(ctx), actor, &prefix).await?;
        let owner = store::partner_code(db(ctx), key.partner_id).await?;
        Ok(ApiKey(key, owner))
    }
}
