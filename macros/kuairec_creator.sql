{#- A KuaiRec video's creator id: its author from kr_items, else the video's own stand-in -(video_id + 1), the
    loader's rule (feedlab.sources.kuairec), also for a video that appears only in the interactions. Video ids are
    >= 0, so a stand-in never collides with an author id. -#}
{% macro kuairec_creator_id(kr_items_creator_id, video_id) -%}
    coalesce({{ kr_items_creator_id }}, -({{ video_id }} + 1))
{%- endmacro %}
