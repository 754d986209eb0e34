//! The CVX code set.

use async_graphql::{Context, Object, Result, SimpleObject};

use crate::context::request;

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Vaccine")]
pub struct VaccineNode {
    /// CVX code, e.g. "20" for DTaP.
    pub cvx: String,
    pub name: String,
    /// Vaccine groups (antigens) this vaccine counts toward.
    pub vaccine_groups: Vec<String>,
}

impl From<&entities::Vaccine> for VaccineNode {
    fn from(v: &entities::Vaccine) -> Self {
        VaccineNode {
            cvx: v.cvx.clone(),
            name: v.name.clone(),
            vaccine_groups: v.vaccine_groups.clone(),
        }
    }
}

#[derive(Default)]
pub struct VaccineQuery;

#[Object]
impl VaccineQuery {
    /// The CVX vaccine code set the registry accepts.
    async fn vaccines(&self, ctx: &Context<'_>) -> Result<Vec<VaccineNode>> {
        let (_, store) = request(ctx)?;
        Ok(store.codes().iter().map(VaccineNode::from).collect())
    }
}
