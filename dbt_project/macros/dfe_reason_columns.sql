{#-
    The DfE-style daily feed's reason columns (seed dfe_reason_columns, in its order). The
    columns of a contracted model must be known when dbt compiles it, before any seed is
    loaded, so the list is written here; the singular test assert_dfe_reason_columns_match_seed fails
    when a seed column is missing from it and the reasons would no longer add up.
-#}
{% macro dfe_reason_columns() -%}
    {{ return([
        'reason_present_am',
        'reason_present_pm',
        'reason_l_present_late_before_registers_closed',
        'reason_k_aea_la_arranged_provision',
        'reason_v_aea_educational_visit_trip',
        'reason_p_aea_approved_sporting_activity',
        'reason_w_aea_work_experience',
        'reason_b_aea_education_off_site',
        'reason_c1_authorised_regulated_performance',
        'reason_m_authorised_medical_dental',
        'reason_j1_authorised_interview',
        'reason_s_authorised_study_leave',
        'reason_c2_authorised_part_time_timetable',
        'reason_c_authorised_other',
        'reason_t_authorised_grt_absence',
        'reason_r_authorised_religious_observance',
        'reason_i_authorised_illness',
        'reason_e_authorised_excluded',
        'reason_g_unauthorised_holiday',
        'reason_n_no_reason_yet',
        'reason_o_other_unauthorised',
        'reason_u_unauthorised_late_after_registers_closed',
    ]) }}
{%- endmacro %}
