/* init.c: the /init of the Linux user-space test: print one line on the console, then power the machine off (raw x86-64 syscalls, no libc). */
#define SYS_WRITE 1
#define SYS_EXIT 60
#define SYS_REBOOT 169
#define REBOOT_MAGIC1 0xfee1deadL
#define REBOOT_MAGIC2 672274793L
#define REBOOT_CMD_POWER_OFF 0x4321fedcL

static long syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

void _start(void)
{
	static const char line[] = "hvx: init reached\n";
	syscall3(SYS_WRITE, 1, (long)line, sizeof line - 1);
	syscall3(SYS_REBOOT, REBOOT_MAGIC1, REBOOT_MAGIC2, REBOOT_CMD_POWER_OFF);
	for (;;) /* only if the power-off failed: init exiting makes the kernel panic, which the test reports */
		syscall3(SYS_EXIT, 1, 0, 0);
}
