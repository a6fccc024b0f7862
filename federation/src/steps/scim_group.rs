//! A role on IS as a SCIM2 group (`/scim2/Groups`; IS 5.10 and later): what the id_token's
//! `groups` claim carries on every release from 5.10 (internal roles of IS 7 are bound to an
//! audience and released under `roles`, which APIM's role claim does not read). Created with
//! its members, the users of the settings that carry it (one write), after those users; a group
//! that exists and is ours (or adopted, or someone else's group a user of the settings is given)
//! gains the members it lacks. Undo deletes a group this federation created, or takes back the
//! members it added.
//!
//! Ownership is proven as for SOAP roles: this journal records that its own create succeeded,
//! or an unknown outcome was settled by reading back exactly the members written.

use serde::{Deserialize, Serialize};
use wso2_is_client::scim2::{ScimGroup, ScimMember};
use wso2_is_client::{IsClient, RoleName, UserName};

use super::scim_user::plain;
use super::{
    Conflict, Decision, FedRunner, Prepared, TakenByOthers, WriteOutcome, failed, from_json,
    intent, to_json,
};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction};

/// A group as planning read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct LiveScimGroup {
    pub group: Option<ScimGroup>,
}

/// A group's name and members, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupImage {
    pub name: String,
    pub members: Vec<String>,
}

impl GroupImage {
    fn of(name: &RoleName, members: &[String]) -> Self {
        let mut members: Vec<String> = members.iter().map(|m| plain(m).to_owned()).collect();
        members.sort();
        members.dedup();
        Self {
            name: name.to_string(),
            members,
        }
    }
}

pub(crate) async fn read(
    is: &IsClient,
    name: &RoleName,
) -> Result<LiveScimGroup, wso2_is_client::Error> {
    Ok(LiveScimGroup {
        group: is.scim2().groups().find_by_name(name).await?,
    })
}

/// The members' user names, without the store prefix.
pub(crate) fn members_of(group: &ScimGroup) -> Vec<String> {
    let mut m: Vec<String> = group
        .members
        .iter()
        .filter_map(|m| m.display.as_deref())
        .map(|d| plain(d).to_owned())
        .collect();
    m.sort();
    m.dedup();
    m
}

fn missing(wanted: &[UserName], current: &[String]) -> Vec<UserName> {
    wanted
        .iter()
        .filter(|w| !current.iter().any(|c| c == w.as_str()))
        .cloned()
        .collect()
}

/// The plan's decision. `managed`: the settings list the role (created when absent, and ours or
/// adopted when present); otherwise it is an existing group a user of the settings is given.
pub(crate) fn decide(
    name: &RoleName,
    wanted: &[UserName],
    live: &LiveScimGroup,
    managed: bool,
    ours: bool,
    adopt: bool,
) -> Result<Decision, Conflict> {
    let list = |v: &[String]| super::fields::list(v.iter());
    let Some(group) = &live.group else {
        if !managed {
            return Err(Conflict {
                kind: ObjectKind::IsRole,
                name: name.to_string(),
                reason: "a user of the settings is given this role, which does not exist on IS; add it to `roles` or create it on IS".into(),
            });
        }
        let members: Vec<String> = wanted.iter().map(ToString::to_string).collect();
        return Ok(Decision::new(
            PlanAction::Create,
            vec![FieldDiff::value("members", None, list(&members))],
        ));
    };
    if managed && !ours && !adopt {
        return Err(Conflict {
            kind: ObjectKind::IsRole,
            name: name.to_string(),
            reason: "exists on IS and was not made by this federation; set `adopt = true` to use it as it is (it is then never deleted), or choose another role name".into(),
        });
    }
    let current = members_of(group);
    let add = missing(wanted, &current);
    if add.is_empty() {
        let action = if ours || !managed {
            PlanAction::NoChange
        } else {
            PlanAction::Adopt
        };
        return Ok(Decision::new(action, Vec::new()));
    }
    let mut after = current.clone();
    after.extend(add.iter().map(ToString::to_string));
    after.sort();
    Ok(Decision::new(
        PlanAction::Update,
        vec![FieldDiff::value("members", list(&current), list(&after))],
    ))
}

/// The SCIM members for these users: ids from this run's creates, else from the plan's read,
/// else read now.
async fn members(r: &FedRunner<'_>, users: &[UserName]) -> Result<Vec<ScimMember>, StepFailure> {
    let mut out = Vec::new();
    for u in users {
        let id = match r.scim_id(u) {
            Some(id) => Some(id),
            None => match r
                .live
                .and_then(|l| l.scim_users.get(u))
                .and_then(|l| l.user.as_ref())
                .and_then(|u| u.id.clone())
            {
                Some(id) => Some(id),
                None => {
                    r.is.scim2()
                        .users()
                        .find_by_name(u)
                        .await
                        .map_err(StepFailure::clean)?
                        .and_then(|u| u.id)
                }
            },
        };
        let id = id.ok_or_else(|| StepFailure::clean(format!("user {u} does not exist on IS")))?;
        out.push(ScimMember::new(id).with_display(u.as_str()));
    }
    Ok(out)
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &RoleName,
    action: PlanAction,
) -> Result<Effect, StepFailure> {
    let wanted = r.desired()?.members_of(name);
    let groups = r.is.scim2().groups();
    if action == PlanAction::Update {
        let group = match r
            .live()?
            .scim_groups
            .get(name)
            .and_then(|g| g.group.clone())
        {
            Some(g) => g,
            None => groups
                .find_by_name(name)
                .await
                .map_err(StepFailure::clean)?
                .ok_or_else(|| {
                    StepFailure::clean(format!("group {name} disappeared since the plan"))
                })?,
        };
        let id = group
            .id
            .clone()
            .ok_or_else(|| StepFailure::clean(format!("group {name} was read without its id")))?;
        let current = members_of(&group);
        let add = missing(&wanted, &current);
        if add.is_empty() {
            return Ok(Effect::Unchanged);
        }
        let pre = to_json(&GroupImage::of(name, &current))?;
        let mut after = current.clone();
        after.extend(add.iter().map(ToString::to_string));
        let post = to_json(&GroupImage::of(name, &after))?;
        let new_members = members(r, &add).await?;
        intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
        groups
            .add_members(&id, &new_members)
            .await
            .map_err(failed)?;
        return Ok(Effect::Updated {
            pre_image: pre,
            post_image: Some(post),
        });
    }
    let names: Vec<String> = wanted.iter().map(ToString::to_string).collect();
    let image = GroupImage::of(name, &names);
    let post = to_json(&image)?;
    let mut group = ScimGroup::new(name);
    for m in members(r, &wanted).await? {
        group = group.with_member(m);
    }
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let created = || {
        r.mark_created(step);
        Effect::Created {
            post_image: Some(post.clone()),
        }
    };
    match groups.create(&group).await {
        Ok(_) => Ok(created()),
        Err(e) if e.already_exists() && r.did_create(step) => Ok(created()),
        Err(e) if e.already_exists() => Err(StepFailure::refused(TakenByOthers {
            what: format!("role {name}"),
            source: Box::new(e),
        })),
        Err(e) if e.changed_nothing() => Err(StepFailure::clean(e)),
        // The outcome is unknown: exactly the members written prove it is the group just made.
        Err(e) => match groups.find_by_name(name).await {
            Ok(None) => Err(StepFailure::clean(e)),
            Ok(Some(g)) if GroupImage::of(name, &members_of(&g)) == image => {
                tracing::info!(error = %e, %name, "the create's answer was lost, the group is there as written");
                Ok(created())
            }
            Ok(Some(_)) => Err(StepFailure::refused(TakenByOthers {
                what: format!("role {name}"),
                source: Box::new(e),
            })),
            Err(_) => Err(failed(e)),
        },
    }
}

pub(super) async fn prepare_undo(
    r: &FedRunner<'_>,
    name: &RoleName,
    effect: &Effect,
) -> Result<Prepared, StepFailure> {
    match effect {
        Effect::Created { .. } | Effect::Updated { .. } | Effect::Unknown { .. } => {
            Ok(Prepared::ScimGroup(
                read(r.is, name)
                    .await
                    .map_err(StepFailure::clean)?
                    .group
                    .map(Box::new),
            ))
        }
        _ => Ok(Prepared::Nothing),
    }
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &RoleName,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let Prepared::ScimGroup(group) = prepared else {
        return Ok(());
    };
    let Some(group) = group else {
        return Ok(());
    };
    let id = group
        .id
        .clone()
        .ok_or_else(|| StepFailure::clean(format!("group {name} was read without its id")))?;
    let groups = r.is.scim2().groups();
    let now = members_of(&group);
    match effect {
        Effect::Created { post_image }
        | Effect::Unknown {
            action: Action::Create,
            post_image,
            ..
        } => {
            // Only as written: members someone added since make it theirs too.
            let written: Option<GroupImage> = post_image.as_ref().map(from_json).transpose()?;
            let others: Vec<&String> = now
                .iter()
                .filter(|m| written.as_ref().is_none_or(|w| !w.members.contains(m)))
                .collect();
            let unknown = !matches!(effect, Effect::Created { .. });
            if (!others.is_empty() || (unknown && written.is_none())) && !r.force {
                return Err(StepFailure::refused(format!(
                    "role {name} has members this federation did not give it ({}); left as it is (rerun with --force to delete it)",
                    crate::text::clean(
                        &others
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        200
                    )
                )));
            }
            match groups.delete(&id).await {
                Ok(()) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => match groups.find_by_name(name).await {
                    Ok(None) => Ok(()),
                    _ => Err(StepFailure::clean(e)),
                },
            }
        }
        // Take back only the members this federation added that are still there.
        Effect::Updated {
            pre_image,
            post_image,
        }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
            post_image,
        } => {
            let before: GroupImage = from_json(pre_image)?;
            let after: Option<GroupImage> = post_image.as_ref().map(from_json).transpose()?;
            let added: Vec<&str> = group
                .members
                .iter()
                .filter(|m| {
                    m.display.as_deref().is_some_and(|d| {
                        let d = plain(d).to_owned();
                        !before.members.contains(&d)
                            && after.as_ref().is_none_or(|a| a.members.contains(&d))
                    })
                })
                .map(|m| m.value.as_str())
                .collect();
            if added.is_empty() {
                return Ok(());
            }
            groups
                .remove_members(&id, &added)
                .await
                .map(|_| ())
                .map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(members: &[&str]) -> LiveScimGroup {
        let mut g = ScimGroup::new(&RoleName::new("publisher_role").unwrap());
        g.id = Some("g1".into());
        for (i, m) in members.iter().enumerate() {
            g = g
                .with_member(ScimMember::new(format!("u{i}")).with_display(format!("PRIMARY/{m}")));
        }
        LiveScimGroup { group: Some(g) }
    }

    #[test]
    fn each_decision_shows_what_changes() {
        let name = RoleName::new("publisher_role").unwrap();
        let wanted = vec![UserName::new("a").unwrap(), UserName::new("b").unwrap()];
        let absent = LiveScimGroup { group: None };
        let d = decide(&name, &wanted, &absent, true, false, false).unwrap();
        assert_eq!(d.action, PlanAction::Create);
        assert_eq!(d.diff[0].after.as_deref(), Some("a, b"));
        assert!(decide(&name, &wanted, &absent, false, false, false).is_err());

        let d = decide(&name, &wanted, &group(&["a"]), true, true, false).unwrap();
        assert_eq!(d.action, PlanAction::Update);
        assert_eq!(d.diff[0].before.as_deref(), Some("a"));
        assert_eq!(d.diff[0].after.as_deref(), Some("a, b"));
        let full = group(&["b", "a"]);
        assert_eq!(
            decide(&name, &wanted, &full, true, true, false)
                .unwrap()
                .action,
            PlanAction::NoChange
        );
        assert_eq!(
            decide(&name, &wanted, &full, true, false, true)
                .unwrap()
                .action,
            PlanAction::Adopt
        );
        assert!(decide(&name, &wanted, &full, true, false, false).is_err());
        // Someone else's group a user of the settings is given: membership only.
        assert_eq!(
            decide(&name, &wanted, &group(&["x"]), false, false, false)
                .unwrap()
                .action,
            PlanAction::Update
        );
    }
}
