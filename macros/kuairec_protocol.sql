{#- The split protocol of this build (var `kuairec_protocol`): 'leave_last_out', every data set's per-user split, or
    'big_to_small', KuaiRec's own: train on the big matrix, evaluate on the fully observed small one. A one-line
    error for an unknown value, for big_to_small on another data set, without the big matrix, or beside var
    split_protocol temporal (int_split's other protocol). -#}
{% macro kuairec_protocol() %}
    {%- set protocol = var('kuairec_protocol', 'leave_last_out') | string | trim %}
    {%- set known = ['leave_last_out', 'big_to_small'] %}
    {%- if protocol not in known %}
        {{ exceptions.raise_compiler_error("var 'kuairec_protocol' is '" ~ protocol ~ "'; expected one of " ~ known | join(', ')) }}
    {%- endif %}
    {%- if protocol == 'big_to_small' %}
        {%- if feedlab_dataset() != 'kuairec' %}
            {{ exceptions.raise_compiler_error("var 'kuairec_protocol' big_to_small applies to dataset kuairec only (dataset is " ~ feedlab_dataset() ~ ")") }}
        {%- endif %}
        {%- if var('kuairec_use_big_matrix') is not sameas true %}
            {{ exceptions.raise_compiler_error("var 'kuairec_protocol' big_to_small trains on the big matrix: set kuairec_use_big_matrix: true") }}
        {%- endif %}
        {%- if var('split_protocol') != 'leave_last_out' %}
            {{ exceptions.raise_compiler_error("var 'kuairec_protocol' big_to_small is a split of its own: it cannot be combined with split_protocol " ~ var('split_protocol')) }}
        {%- endif %}
    {%- endif %}
    {{- return(protocol) }}
{% endmacro %}
