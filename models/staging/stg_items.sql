-- The active data set's items, in the one row shape every data set shares.
select * from {{ ref('stg_' ~ feedlab_dataset() ~ '__items') }}
