-- Every user with training data (under KuaiRec's big_to_small protocol: and small-matrix rows) in exactly one arm
-- of every experiment: md5(salt || ':' || user_id) picks one of 10,000 buckets, identical on every run, engine and
-- DuckDB version.
with experiments as (

    select * from {{ ref('dim_experiments') }}

),

users as (

    select user_id from {{ ref('int_user_history') }}
    {%- if kuairec_protocol() == 'big_to_small' %}
    -- only small-matrix users: their outcome on any served (small-matrix) video is observed
    where user_id in (select user_id from {{ ref('int_split') }} where split <> 'train')
    {%- endif %}

),

salts as (

    select distinct experiment_id, salt from experiments

),

bucketed as (

    select
        salts.experiment_id,
        users.user_id,
        {{ md5_bucket(dbt.concat(["salts.salt", "':'", "cast(users.user_id as " ~ dbt.type_string() ~ ")"]), assignment_buckets()) }} as bucket
    from salts
    cross join users

)

select
    bucketed.experiment_id,
    experiments.arm,
    experiments.policy,
    bucketed.user_id,
    bucketed.bucket
from bucketed
inner join experiments
    on experiments.experiment_id = bucketed.experiment_id
    and bucketed.bucket >= experiments.bucket_start
    and bucketed.bucket < experiments.bucket_end
