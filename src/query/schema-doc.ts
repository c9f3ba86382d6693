// What users can query: every table, view and macro of an index with one line per column. `trace query TRACE`
// without SQL prints this (with the types DuckDB reports); the README's query section follows it.
import { tableSpec, TableName } from '../trace/schema.js';

/** One documented relation. */
export interface RelationDoc {
  /** Table or view name. */
  readonly name: string;
  /** What one row is. */
  readonly comment: string;
  /** Column name → meaning. */
  readonly columns: Readonly<Record<string, string>>;
}

const from = (table: TableName, col: string): string => tableSpec(table).columns.find((c) => c.name === col)!.comment;

/** The relations, in the order they are described. */
export const RELATIONS: readonly RelationDoc[] = [
  {
    name: 'insns', comment: 'view: one row per step, with its instruction (steps joined with code)',
    columns: {
      seq: from('insns', 'seq'), rip: from('insns', 'rip'), ring: 'privilege level the step ran at (3 user, 0 kernel)',
      length: from('insns', 'length'), bytes: 'the instruction bytes', mnemonic: 'lower-case mnemonic (iced-x86), e.g. mov',
      disassembly: 'Intel syntax, e.g. mov rax,[rbp-8]', symbol: 'function containing rip (ELF or guest kernel), NULL if none',
      offset: 'rip minus the symbol\'s address', faulted: 'true if the attempt raised an exception (delivered within this step)',
      code: 'row of the code table',
      tid: 'thread that ran the step (from schedule; 1 for a version-3 trace)', pid: 'its process',
    },
  },
  {
    name: 'steps', comment: 'view behind insns (over query.steps.parquet): one row per step without the instruction text (faster to scan)',
    columns: { seq: from('insns', 'seq'), rip: from('insns', 'rip'), ring: 'privilege level (3 user, 0 kernel)', length: from('insns', 'length'), code: 'row of the code table', faulted: 'attempt raised an exception' },
  },
  {
    name: 'code', comment: 'one row per distinct (rip, bytes) executed',
    columns: {
      id: 'row number (steps.code)', rip: 'address of the instruction', bytes: 'instruction bytes', mnemonic: 'lower-case mnemonic', disassembly: 'Intel syntax',
      symbol: 'function containing rip (a PLT stub is name@plt)', offset: 'rip minus the symbol\'s address',
      callee: 'what a call to rip counts as: symbol, or for a PLT stub the function it jumps to', is_call: 'near CALL', is_ret: 'near RET',
    },
  },
  {
    name: 'regs', comment: `${tableSpec('regs').comment} (view over query.regs.parquet)`,
    columns: { seq: from('regs', 'seq'), reg: 'register name (ENUM: rax..r15, rflags, fs_base, xmm0_lo, ...; see the registers table)', value: from('regs', 'value') },
  },
  {
    name: 'registers', comment: 'one row per register the trace numbers',
    columns: { id: 'register number in the trace', name: 'name (values of regs.reg)', initial: 'value before step 0 (checkpoint 0)' },
  },
  {
    name: 'mem', comment: tableSpec('mem').comment,
    columns: {
      seq: from('mem', 'seq'), addr: from('mem', 'addr'), size: from('mem', 'size'), access: '\'r\' read or \'w\' write',
      value: from('mem', 'value'), old_value: from('mem', 'old_value'),
    },
  },
  {
    name: 'events', comment: tableSpec('events').comment,
    columns: {
      seq: from('events', 'seq'), kind: from('events', 'kind'), vector: from('events', 'vector'), error_code: from('events', 'error_code'), cr2: from('events', 'cr2'),
      from_ring: 'privilege level before the event', to_ring: 'privilege level after the event', from_rip: from('events', 'from_rip'), to_rip: from('events', 'to_rip'),
    },
  },
  {
    name: 'ring_switches', comment: 'view: the events that changed the privilege level',
    columns: { seq: 'step of the switch', kind: 'syscall | sysret | exception | page_fault | interrupt | iret', vector: 'vector (-1 if none)', from_ring: 'ring before', to_ring: 'ring after', from_rip: 'RIP before', to_rip: 'RIP after' },
  },
  {
    name: 'page_faults', comment: 'one row per page fault',
    columns: {
      seq: 'step of the faulting attempt', rip: 'the faulting instruction', cr2: 'faulting linear address', error_code: 'page-fault error code (bit 0 present, 1 write, 2 user, 4 fetch)',
      ring: 'ring of the faulting instruction', reexec_seq: 'step where the faulting instruction ran again (NULL if never)', handler_steps: 'steps between the fault and the re-execution (the kernel handling it)',
    },
  },
  {
    name: 'syscalls', comment: 'one row per system call',
    columns: {
      entry_seq: from('syscalls', 'entry_seq'), return_seq: 'step of the SYSRETQ that returned to ring 3, NULL if the call did not return (exit)', number: from('syscalls', 'number'), name: from('syscalls', 'name'),
      arg0: 'RDI at entry', arg1: 'RSI', arg2: 'RDX', arg3: 'R10', arg4: 'R8', arg5: 'R9', result: 'RAX returned (negative errno), NULL if no return',
      kernel_steps: 'steps from the SYSCALL to its SYSRETQ (or to the end of the trace): kernel steps spent in the call',
    },
  },
  {
    name: 'calls', comment: 'the call tree: one row per CALL step (per ring; frames are matched by the return-address slot)',
    columns: {
      call_seq: 'step of the CALL', return_seq: 'step of the matching RET, NULL if the frame never returned', end_seq: 'last step inside the frame (RET, unwinding step, or last step)',
      ended: 'return | unwind (RSP rose above the return slot without RET: longjmp) | open (still open at the end: exit)', depth: 'frames of the same ring open around it (0 = outermost)',
      ring: 'ring of the CALL', parent_seq: 'call_seq of the enclosing frame, NULL at depth 0', caller_rip: 'address of the CALL instruction', caller_symbol: 'function containing it',
      target: 'called address (first step after the CALL)', symbol: 'function called (a call through a PLT stub counts as a call of the function it jumps to)', rsp: 'RSP before the CALL (the return address is at rsp-8)',
      arg0: 'RDI at entry', arg1: 'RSI at entry', arg2: 'RDX at entry', arg3: 'RCX at entry', arg4: 'R8 at entry', arg5: 'R9 at entry', ret_value: 'RAX after the RET, NULL if no return',
      inclusive: 'steps from the CALL to end_seq inclusive (includes kernel steps of system calls and faults taken inside)', exclusive: 'inclusive minus the inclusive steps of its callees (same ring)',
    },
  },
  { name: 'symbols', comment: 'function symbols (ELF with load bias, guest kernel)', columns: { name: 'symbol name', address: 'start address', size: 'bytes (0: up to the next symbol)', source: 'elf | kernel' } },
  {
    name: 'modules', comment: 'executable mappings of ELF files: the program, its interpreter, shared libraries (modules.json; empty for older traces)',
    columns: {
      name: 'file name (module!symbol)', path: 'guest path', base: 'load bias (0 for ET_EXEC)', start: 'lowest address of its segments',
      size: 'bytes from start to the end of its last segment', build_id: 'GNU build-id, hex (NULL if none)',
      map_seq: 'step at which it was mapped (0: by the loader, before the first step)', unmap_seq: 'step at which it was unmapped, NULL if never',
    },
  },
  {
    name: 'processes', comment: 'every process of the recording (processes.json; one row, pid 1, for a version-3 trace)',
    columns: {
      pid: 'process id (the first process is 1000)', ppid: 'parent\'s pid (999 for the first: outside the machine; 1 once orphaned)',
      image: 'guest path of the program it ran last', argv: 'its argv, a JSON array', fork_seq: 'step of the fork that created it (0 for the first)',
      exec_seqs: 'steps of its successful execve calls, comma-separated', exit_seq: 'step at which it ended, NULL if running at the end',
      exit_status: 'exit status (0..255), NULL if killed or still running', signal: 'signal that killed it, NULL if none',
    },
  },
  {
    name: 'threads', comment: 'every thread (task of the scheduler)',
    columns: { tid: 'thread id (the pid for a process\'s first thread)', pid: 'its process', first_seq: 'its first step (the fork)', last_seq: 'step at which it ended, NULL if running at the end' },
  },
  {
    name: 'schedule', comment: 'runs of steps of one thread: the guest kernel switched to tid at seq (__switch_to\'s RET, the first step on its kernel stack)',
    columns: { seq: 'first step of the run', end_seq: 'last step of the run', tid: 'thread', pid: 'its process' },
  },
  { name: 'inputs', comment: tableSpec('inputs').comment, columns: { seq: from('inputs', 'seq'), kind: from('inputs', 'kind'), data: from('inputs', 'data') } },
  { name: 'meta', comment: 'meta.json as key/value rows, plus index_version and index_key', columns: { key: 'field name', value: 'value (JSON for non-strings)' } },
];

/** The session macros (SQL signatures and meaning). */
export const MACROS: readonly { readonly signature: string; readonly comment: string }[] = [
  { signature: 'hex64(x)', comment: 'x as 0x + 16 hex digits' },
  { signature: 'hexaddr(x)', comment: 'x as 0x + hex digits' },
  { signature: 'sym(address)', comment: 'symbol+0xoffset of an address, NULL if no symbol covers it' },
  { signature: 'reg_at(name, n)', comment: 'value of register name (e.g. \'rax\') before step n' },
  { signature: 'state_at(n)', comment: 'table: every register (reg, value, hex) before step n' },
  { signature: 'last_write(address, n)', comment: 'table: the last write covering byte address before step n, with the writing instruction' },
  { signature: 'call_stack(n)', comment: 'table: the frames open at step n, outermost first' },
];
