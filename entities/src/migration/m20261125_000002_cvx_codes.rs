//! Loads the CVX code set shipped in `entities/data/cvx-codes.csv`. Codes added to the file
//! later are loaded by a later migration, so a migrated database never changes under a reader.

use sea_orm_migration::prelude::*;

use crate::code_set::CodeSet;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let codes = CodeSet::embedded().map_err(|e| DbErr::Migration(e.to_string()))?;
        let mut vaccines = Query::insert();
        vaccines
            .into_table(Alias::new("vaccines"))
            .columns([Alias::new("cvx"), Alias::new("name")]);
        let mut groups = Query::insert();
        groups.into_table(Alias::new("vaccine_groups")).columns([
            Alias::new("cvx"),
            Alias::new("vaccine_group"),
            Alias::new("position"),
        ]);
        for vaccine in codes.iter() {
            vaccines.values_panic([vaccine.cvx.clone().into(), vaccine.name.clone().into()]);
            for (position, group) in (0i32..).zip(vaccine.vaccine_groups.iter()) {
                groups.values_panic([
                    vaccine.cvx.clone().into(),
                    group.clone().into(),
                    position.into(),
                ]);
            }
        }
        m.exec_stmt(vaccines.to_owned()).await?;
        m.exec_stmt(groups.to_owned()).await?;
        Ok(())
    }
}
