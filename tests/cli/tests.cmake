# tests/cli/tests.cmake: command-line tests of `hvx decode` and `hvx reasons` (output, JSON validity, exit statuses); label "cli".
set(HVX_CLI $<TARGET_FILE:hvx_cli>)
set(HVX_CLI_DIR ${CMAKE_CURRENT_LIST_DIR})

# hvx_cli_text(NAME REGEX ARGS...): exit status 0 and stdout matching REGEX.
function(hvx_cli_text name regex)
  add_test(NAME cli_${name} COMMAND sh ${HVX_CLI_DIR}/expect_status.sh 0 ${HVX_CLI} ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES LABELS cli
    PASS_REGULAR_EXPRESSION "${regex}" FAIL_REGULAR_EXPRESSION "EXPECT_STATUS_FAILED")
endfunction()

# hvx_cli_json(NAME CHECK ARGS...): exit status 0, valid JSON (python3 -m json.tool), CHECK true.
function(hvx_cli_json name check)
  add_test(NAME cli_${name} COMMAND sh ${HVX_CLI_DIR}/json_valid.sh "${check}" ${HVX_CLI} ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES LABELS cli)
endfunction()

# hvx_cli_usage_error(NAME ARGS...): exit status exactly 2, message on stderr, nothing on stdout.
function(hvx_cli_usage_error name)
  add_test(NAME cli_${name} COMMAND sh ${HVX_CLI_DIR}/expect_status.sh 2 ${HVX_CLI} ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES LABELS cli)
endfunction()

# decode: text
hvx_cli_text(decode_io "^IO \\(30\\): IN 1 byte from port 0x3f8 via DX\n$" decode 30 0x3f80008)
hvx_cli_text(decode_io_apple_name "^IO \\(30\\): IN 1 byte from port 0x3f8 via DX\n$" decode VMX_REASON_IO 0x3f80008)
hvx_cli_text(decode_io_short_name "^IO \\(30\\): OUT 2 bytes to port 0x70 via immediate\n$" decode io 0x00700041)
hvx_cli_text(decode_full_word "^IO \\(30, entry failure\\): I/O instruction\n$" decode 0x8000001e)
hvx_cli_text(decode_entry_failure_name "^VMENTRY_GUEST \\(33, entry failure\\): qualification 2: PDPTE load failure\n$"
  decode VMENTRY_GUEST 2)
hvx_cli_text(decode_instr_info "VMREAD \\(23\\): displacement 0x0; instr-info 0x20000400: VMREAD reg RAX field in RDX"
  decode 23 0 --instr-info 0x20000400)
hvx_cli_text(decode_intr_info "EXC_NMI \\(0\\): #PF at linear address 0x1000; intr hardware exception vector 14 \\(#PF\\) error 0x2"
  decode 0 0x1000 --intr-info 0x80000b0e --intr-error=2)
hvx_cli_text(decode_idt_info "idt hardware exception vector 10 \\(#TS\\) error 0x28"
  decode 9 0xc0000028 --idt-info 0x80000b0a --idt-error 0x28)
hvx_cli_text(decode_ept "EPT_VIOLATION \\(48\\): write, EPT ---, GLA valid, final translation; GPA 0xfee00000; GLA 0x7000; length 3"
  decode 48 0x182 --gpa 0xfee00000 --gla 0x7000 --len 3)
hvx_cli_text(decode_unknown "^unknown reason 99: qualification 0x5 \\(not defined for this exit\\)\n$" decode 99 5)

# decode: JSON
hvx_cli_json(decode_json "d['qualification']['port'] == 0x3f8 and d['qualification']['direction'] == 'in' and d['apple_name'] == 'VMX_REASON_IO'"
  decode 30 0x3f80008 --json)
hvx_cli_json(decode_json_all_fields "d['instruction_information']['instruction'] == 'INVEPT' and d['instruction_information']['index'] == 'RSI' and d['interruption_information'] is not None and d['idt_vectoring_information']['vector'] == 14"
  decode 50 0x10 --instr-info 0x11998102 --intr-info 0 --idt-info 0x80000b0e --idt-error 2 --len 5 --gla 0x1000 --gpa 0x2000 --json)
hvx_cli_json(decode_json_unknown "d['known'] is False and d['reason'] == 200" decode 200 --json)

# reasons
hvx_cli_text(reasons_table "VMX_REASON_TPAUSE.*78 reasons, 65 with Apple names" reasons)
hvx_cli_text(reasons_verbose "cause: the guest executed IN, OUT, INS or OUTS; qualification: io" reasons -v)
hvx_cli_json(reasons_json "len(d['reasons']) == 78 and sum(1 for r in d['reasons'] if r['apple_name']) == 65 and d['reasons'][30]['apple_name'] == 'VMX_REASON_IO'"
  reasons --json)

# --help: stdout, exit 0
hvx_cli_text(decode_help "usage: hvx decode" decode --help)
hvx_cli_text(decode_help_short "usage: hvx decode" decode 30 -h)
hvx_cli_text(reasons_help "usage: hvx reasons" reasons --help)

# usage errors: exit status exactly 2
hvx_cli_usage_error(decode_no_args decode)
hvx_cli_usage_error(decode_unknown_option decode 30 --bogus)
hvx_cli_usage_error(decode_bad_qualification decode 30 zz)
hvx_cli_usage_error(decode_bad_reason_name decode NOPE)
hvx_cli_usage_error(decode_reason_too_big decode 0x100000000)
hvx_cli_usage_error(decode_extra_argument decode 30 1 2)
hvx_cli_usage_error(decode_missing_value decode 30 --instr-info)
hvx_cli_usage_error(decode_value_too_big decode 30 --instr-info 0x100000000)
hvx_cli_usage_error(decode_negative decode -5)
hvx_cli_usage_error(reasons_unknown_option reasons --bogus)
hvx_cli_usage_error(reasons_extra_argument reasons extra)

# caps: every backend listed with its control words; JSON; usage errors.
hvx_cli_text(caps_lists_backends "backend kvm: .*PINBASED +0x[0-9a-f]+.*reasons produced:.*backend emu: available.*PINBASED +0x[0-9a-f]+" caps)
hvx_cli_text(caps_one_backend "^backend emu: available\n" caps --backend emu)
hvx_cli_json(caps_json "len(d) == 2 and {b['backend'] for b in d} == {'emu', 'kvm'} and all(len(b['capabilities']) == 13 for b in d)" caps --json)
hvx_cli_text(caps_help "^usage: hvx caps" caps --help)
hvx_cli_usage_error(caps_unknown_backend caps --backend bogus)
hvx_cli_usage_error(caps_missing_backend caps --backend)
hvx_cli_usage_error(caps_unknown_option caps --frobnicate)
hvx_cli_usage_error(no_command)
hvx_cli_usage_error(unknown_command frobnicate)
hvx_cli_text(top_help "^usage: hvx <command>" --help)
