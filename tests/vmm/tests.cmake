# tests/vmm/tests.cmake: `hvx run` tests: test kernels in every format booted on each backend (skipped where the backend
# cannot run guests), bad images and options (exit 2), --timeout, stats JSON and the HTML report, and unit tests
# (loaders, devices, statistics, MMIO emulator). Labels: vmm, plus e2e / unit / cli.
find_program(HVX_VMM_NASM nasm REQUIRED)
set(HVX_VMM_DIR ${CMAKE_CURRENT_LIST_DIR})
set(HVX_VMM_GUESTS ${CMAKE_BINARY_DIR}/tests/vmm_guests)
set(HVX_RUN $<TARGET_FILE:hvx_cli>)

set(_guests flat32 flat_real flat64 elf32 elf64 multiboot_elf multiboot_aout pvh bzimage spin smp triple lapic64 reset uart_irq64 mode_switch acpi_smp mmio64)
set(_outputs)
foreach(g ${_guests})
  add_custom_command(OUTPUT ${HVX_VMM_GUESTS}/${g}.bin
    COMMAND ${CMAKE_COMMAND} -E make_directory ${HVX_VMM_GUESTS}
    COMMAND ${HVX_VMM_NASM} -f bin -I ${HVX_VMM_DIR}/guests/ -o ${HVX_VMM_GUESTS}/${g}.bin ${HVX_VMM_DIR}/guests/${g}.asm
    DEPENDS ${HVX_VMM_DIR}/guests/${g}.asm ${HVX_VMM_DIR}/guests/lib32.inc ${HVX_VMM_DIR}/guests/lib64.inc
            ${HVX_VMM_DIR}/guests/mbcheck.inc
    VERBATIM)
  list(APPEND _outputs ${HVX_VMM_GUESTS}/${g}.bin)
endforeach()
add_custom_command(OUTPUT ${HVX_VMM_GUESTS}/bzimage64.bin
  COMMAND ${HVX_VMM_NASM} -f bin -DKERNEL64 -I ${HVX_VMM_DIR}/guests/ -o ${HVX_VMM_GUESTS}/bzimage64.bin ${HVX_VMM_DIR}/guests/bzimage.asm
  DEPENDS ${HVX_VMM_DIR}/guests/bzimage.asm ${HVX_VMM_DIR}/guests/lib32.inc ${HVX_VMM_DIR}/guests/lib64.inc VERBATIM)
list(APPEND _outputs ${HVX_VMM_GUESTS}/bzimage64.bin)
add_custom_command(OUTPUT ${HVX_VMM_GUESTS}/irq_window64.bin
  COMMAND ${HVX_VMM_NASM} -f bin -DWINDOW -I ${HVX_VMM_DIR}/guests/ -o ${HVX_VMM_GUESTS}/irq_window64.bin ${HVX_VMM_DIR}/guests/lapic64.asm
  DEPENDS ${HVX_VMM_DIR}/guests/lapic64.asm ${HVX_VMM_DIR}/guests/lib64.inc VERBATIM)
list(APPEND _outputs ${HVX_VMM_GUESTS}/irq_window64.bin)
add_custom_target(hvx_vmm_guests ALL DEPENDS ${_outputs})

# hvx_vmm_boot(NAME STATUS REGEXES... -- RUN-ARGS...): one test per backend.
function(hvx_vmm_boot name status)
  foreach(backend emu kvm)
    add_test(NAME vmm_boot_${backend}_${name}
      COMMAND sh ${HVX_VMM_DIR}/run_guest.sh ${HVX_RUN} ${backend} ${status} ${ARGN})
    set_tests_properties(vmm_boot_${backend}_${name} PROPERTIES LABELS "vmm;e2e;sanitize" SKIP_RETURN_CODE 77 TIMEOUT 120)
  endforeach()
endfunction()

set(M ${HVX_VMM_DIR}/guests/module.txt)
hvx_vmm_boot(flat32 33 "flat32: PASS" -- --format flat ${HVX_VMM_GUESTS}/flat32.bin)
hvx_vmm_boot(flat_real 33 "real: PASS" "debugcon: PASS" -- --format flat --mode real ${HVX_VMM_GUESTS}/flat_real.bin)
hvx_vmm_boot(flat64 33 "flat64: PASS" -- --mode long --load-addr 0x100000 ${HVX_VMM_GUESTS}/flat64.bin)
hvx_vmm_boot(elf32 33 "elf32: PASS" -- ${HVX_VMM_GUESTS}/elf32.bin)
hvx_vmm_boot(elf64 33 "elf64: PASS" -- ${HVX_VMM_GUESTS}/elf64.bin)
hvx_vmm_boot(multiboot_elf 33 "cmdline=.*multiboot_elf.bin mbtest=1$" "mods=00000001" "module string=.*module.txt modarg data=MODULE-DATA"
  "multiboot: PASS" -- --append mbtest=1 --module "${M} modarg" ${HVX_VMM_GUESTS}/multiboot_elf.bin)
hvx_vmm_boot(multiboot_aout 33 "cmdline=.*multiboot_aout.bin mbtest=1$" "mods=00000002" "module string=.*module.txt second"
  "multiboot: PASS" -- --append mbtest=1 --initrd ${M} --module "${M} second" ${HVX_VMM_GUESTS}/multiboot_aout.bin)
hvx_vmm_boot(pvh 33 "cmdline=console=ttyS0 pvh$" "pvh: PASS" -- --append "console=ttyS0 pvh" ${HVX_VMM_GUESTS}/pvh.bin)
hvx_vmm_boot(bzimage 33 "cmdline=console=ttyS0 quiet$" "ramdisk_size=0000002d" "bzimage: PASS"
  -- --append "console=ttyS0 quiet" --initrd ${M} ${HVX_VMM_GUESTS}/bzimage.bin)
hvx_vmm_boot(bzimage64 33 "cmdline=console=ttyS0 64$" "bzimage64: PASS" -- --mode long --append "console=ttyS0 64" ${HVX_VMM_GUESTS}/bzimage64.bin)
hvx_vmm_boot(smp 33 "smp: AP started by INIT/SIPI: PASS" -- --cpus 2 --format flat ${HVX_VMM_GUESTS}/smp.bin)
hvx_vmm_boot(demo 0 "CPUID .*vendor GenuineIntel" "IA32_PAT = 0x0007010500070406" "version 0x00050014" "signature QEMU, RAM 64 MiB"
  "REP OUTSB to debugcon" "3 timer interrupts injected" "powering off" -- --memory 64M ${CMAKE_BINARY_DIR}/src/vmm/demo.bin)
# emu only: --stats also counts the retired (and unimplemented) instructions.
add_test(NAME vmm_boot_emu_stats_insns COMMAND sh ${HVX_VMM_DIR}/run_guest.sh ${HVX_RUN} emu 33 "flat32: PASS"
  "ERR:^emu: [1-9][0-9]* instructions retired, 0 unimplemented \\(#UD\\)$" -- --stats --format flat ${HVX_VMM_GUESTS}/flat32.bin)
set_tests_properties(vmm_boot_emu_stats_insns PROPERTIES LABELS "vmm;e2e;sanitize" SKIP_RETURN_CODE 77 TIMEOUT 120)
hvx_vmm_boot(timeout 124 "ERR:timeout" -- --timeout 1 --format flat ${HVX_VMM_GUESTS}/spin.bin)
hvx_vmm_boot(lapic64 33 "lapic64: 3 timer interrupts" "lapic64: self-IPI delivered: PASS"
  -- --mode long --load-addr 0x100000 ${HVX_VMM_GUESTS}/lapic64.bin)
hvx_vmm_boot(mmio64 33 "mmio64: ADD/BTS/XADD/SSE on MMIO and an injected #DE: PASS" -- --mode long --load-addr 0x100000 ${HVX_VMM_GUESTS}/mmio64.bin)
hvx_vmm_boot(uart_irq64 33 "uart: got by interrupts: hello from stdin" -- --mode long --load-addr 0x100000 ${HVX_VMM_GUESTS}/uart_irq64.bin)
foreach(backend emu kvm)
  set_tests_properties(vmm_boot_${backend}_uart_irq64 PROPERTIES ENVIRONMENT "HVX_TEST_INPUT=hello from stdin")
endforeach()
hvx_vmm_boot(mode_switch 33 "mode_switch: .*PASS" -- --format flat ${HVX_VMM_GUESTS}/mode_switch.bin)
hvx_vmm_boot(irq_window64 33 "lapic64: self-IPI delivered: PASS" -- --mode long --load-addr 0x100000 ${HVX_VMM_GUESTS}/irq_window64.bin)
hvx_vmm_boot(acpi_smp 33 "MADT lists enabled CPUs: 00000004" "acpi_smp: PASS, application processors started: 00000003"
  -- --cpus 4 --format flat ${HVX_VMM_GUESTS}/acpi_smp.bin)
hvx_vmm_boot(reset 0 "reset: asking for a reset" "ERR:reset" -- --format flat ${HVX_VMM_GUESTS}/reset.bin)
hvx_vmm_boot(triple_fault 4 "ERR:triple fault" -- --format flat ${HVX_VMM_GUESTS}/triple.bin)
hvx_vmm_boot(trace 33 "flat32: PASS" "ERR:^\\[cpu0\\] +[0-9.]+ rip=0x[0-9a-f]+ IO \\(30\\): OUT 1 byte to port 0x3f8 via DX"
  "ERR:IO \\(30\\): IN 1 byte from port 0x3fd via DX" -- --trace --format flat ${HVX_VMM_GUESTS}/flat32.bin)
hvx_vmm_boot(overrides 0 "vendor abcdefghijkl" "IA32_APIC_BASE = 0x12345000" "RAM 32 MiB"
  -- --memory 32M --cpuid 0=7,0x64636261,0x6c6b6a69,0x68676665 --msr 0x1b=0x12345000 ${CMAKE_BINARY_DIR}/src/vmm/demo.bin)

# Optional: a real Linux kernel from $HVX_LINUX_KERNEL (skipped when unset).
foreach(backend emu kvm)
  add_test(NAME vmm_linux_${backend} COMMAND sh ${HVX_VMM_DIR}/linux_boot.sh ${HVX_RUN} ${backend})
  set_tests_properties(vmm_linux_${backend} PROPERTIES LABELS "vmm;e2e" SKIP_RETURN_CODE 77 TIMEOUT 300)
  # ... and to user space: an initramfs built at test time, /init prints a line and powers off (ACPI).
  add_test(NAME vmm_linux_init_${backend}
    COMMAND sh ${HVX_VMM_DIR}/linux_init.sh ${HVX_RUN} ${backend} ${CMAKE_C_COMPILER} ${HVX_VMM_DIR}/linux)
  set_tests_properties(vmm_linux_init_${backend} PROPERTIES LABELS "vmm;e2e" SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

# Bad images and options: exit status 2 with a message, nothing run.
function(hvx_vmm_bad name kind)
  add_test(NAME vmm_bad_${name} COMMAND sh ${HVX_VMM_DIR}/bad_image.sh ${HVX_RUN} ${HVX_VMM_GUESTS} ${kind} ${ARGN})
  set_tests_properties(vmm_bad_${name} PROPERTIES LABELS "vmm;cli;sanitize" TIMEOUT 60)
endfunction()
foreach(k missing empty garbage directory elf_truncated elf_segment_outside elf_bad_machine multiboot_truncated
          multiboot_bad_flags bzimage_truncated bzimage_old_protocol memory_too_small initrd_missing module_missing
          real_mode_too_high cmdline_too_long)
  hvx_vmm_bad(${k} ${k})
endforeach()

set(HVX_EXPECT ${PROJECT_SOURCE_DIR}/tests/cli/expect_status.sh)
function(hvx_vmm_usage name)
  add_test(NAME vmm_usage_${name} COMMAND sh ${HVX_EXPECT} 2 ${HVX_RUN} ${ARGN})
  set_tests_properties(vmm_usage_${name} PROPERTIES LABELS "vmm;cli")
endfunction()
hvx_vmm_usage(run_no_image run)
hvx_vmm_usage(run_unknown_option run --bogus x.bin)
hvx_vmm_usage(run_bad_memory run --memory 12Q x.bin)
hvx_vmm_usage(run_bad_cpus run --cpus 0 x.bin)
hvx_vmm_usage(run_too_many_cpus run --cpus 99 x.bin)
hvx_vmm_usage(run_bad_backend run --backend vmware x.bin)
hvx_vmm_usage(run_bad_mode run --mode virtual86 x.bin)
hvx_vmm_usage(run_bad_format run --format coff x.bin)
hvx_vmm_usage(run_bad_cpuid run --cpuid 1=2,3 x.bin)
hvx_vmm_usage(run_bad_msr run --msr 0x10 x.bin)
hvx_vmm_usage(run_bad_timeout run --timeout -1 x.bin)
hvx_vmm_usage(run_missing_value run x.bin --timeout)
hvx_vmm_usage(run_two_images run a.bin b.bin)
hvx_vmm_usage(run_real_elf run --mode real --format elf x.bin)
hvx_vmm_usage(stat_no_file stat)
hvx_vmm_usage(stat_unknown_option stat --bogus)
hvx_vmm_usage(stat_missing_file stat /nonexistent.json -o /tmp/x.html)
hvx_vmm_usage(stat_not_json stat ${HVX_VMM_DIR}/guests/module.txt)
foreach(c run stat)
  add_test(NAME vmm_help_${c} COMMAND sh ${HVX_EXPECT} 0 ${HVX_RUN} ${c} --help)
  set_tests_properties(vmm_help_${c} PROPERTIES LABELS "vmm;cli" PASS_REGULAR_EXPRESSION "usage: hvx ${c}")
endforeach()

# Stats JSON and the HTML report from a real run (skipped where no backend runs guests).
add_test(NAME vmm_stats_report COMMAND sh ${HVX_VMM_DIR}/stats_report.sh ${HVX_RUN} ${CMAKE_BINARY_DIR}/src/vmm/demo.bin)
set_tests_properties(vmm_stats_report PROPERTIES LABELS "vmm;e2e" SKIP_RETURN_CODE 77 TIMEOUT 120)

# Unit tests: tests/vmm/test_*.c, cmocka, linked with the VMM library.
file(GLOB _vmm_units CONFIGURE_DEPENDS ${HVX_VMM_DIR}/test_*.c)
foreach(src ${_vmm_units})
  get_filename_component(n ${src} NAME_WE)
  add_executable(vmm_${n} ${src})
  target_include_directories(vmm_${n} PRIVATE ${PROJECT_SOURCE_DIR}/src/vmm ${PROJECT_SOURCE_DIR}/src/mmio)
  target_link_libraries(vmm_${n} PRIVATE hvx_vmm hvx_static Zydis::Zydis PkgConfig::CMOCKA)
  add_test(NAME vmm_unit_${n} COMMAND vmm_${n})
  set_tests_properties(vmm_unit_${n} PROPERTIES LABELS "vmm;unit;sanitize" TIMEOUT 120)
endforeach()
