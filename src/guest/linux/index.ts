// The host side of the Linux x86-64 system call ABI.
export { LinuxProcess, type LinuxProcessOptions, type TtyFlags } from './process.js';
export { SYSCALL_TABLE, syscallName, syscallNumber, type SyscallEntry } from './syscall-table.js';
export { InputKind } from './input-kind.js';
export { E as Errno } from './errno.js';
