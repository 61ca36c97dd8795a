import type { Copy, Env, Healthcheck, Instruction, JSONInstruction, Run } from 'dockerfile-ast';
import { DockerfileParser, From, ModifiableInstruction } from 'dockerfile-ast';

/** One Dockerfile instruction this stand-in for `docker build` knows how to carry out. */
export type Step =
  | { readonly kind: 'workdir'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string; readonly value: string }
  | { readonly kind: 'copy'; readonly from: string | null; readonly sources: readonly string[]; readonly dest: string; readonly line: number }
  | { readonly kind: 'run'; readonly commands: readonly (readonly string[])[]; readonly line: number }
  | { readonly kind: 'user'; readonly user: string }
  | { readonly kind: 'cmd'; readonly argv: readonly string[] }
  | { readonly kind: 'healthcheck'; readonly argv: readonly string[] };

export interface Stage {
  readonly name: string | null;
  /** An image from a registry, or the name of an earlier stage. */
  readonly base: string;
  readonly steps: readonly Step[];
}

/** Instructions that change nothing a process in the container can see. */
const METADATA_ONLY = new Set(['EXPOSE', 'LABEL', 'STOPSIGNAL']);

export class UnsupportedInstruction extends Error {}

/**
 * The stages of a Dockerfile, read with dockerfile-ast (the parser behind VS Code's Docker support).
 * Anything the assembler cannot reproduce faithfully is refused, so a new kind of instruction makes
 * the image test fail until someone teaches it, instead of being silently skipped.
 */
export function planImage(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  if (dockerfile.getInitialARGs().length > 0) throw unsupported(dockerfile.getInitialARGs()[0] as Instruction, 'build arguments');
  const stages: Array<{ name: string | null; base: string; steps: Step[] }> = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) {
      const base = instruction.getImage();
      if (!base || instruction.getFlags().length > 0) throw unsupported(instruction, 'FROM without an image, or with flags');
      stages.push({ name: instruction.getBuildStage(), base, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw unsupported(instruction, 'an instruction before FROM');
    const step = toStep(instruction, text, dockerfile.getEscapeCharacter());
    if (step) stage.steps.push(step);
  }
  return stages;
}

function toStep(instruction: Instruction, text: string, escape: string): Step | null {
  const keyword = instruction.getKeyword();
  const line = instruction.getRange().start.line + 1;
  if (METADATA_ONLY.has(keyword)) return null;
  if (instruction.getVariables().length > 0) throw unsupported(instruction, 'variables');
  const args = instruction.getArguments().map((a) => a.getValue());
  switch (keyword) {
    case 'WORKDIR':
      return { kind: 'workdir', path: only(instruction, args) };
    case 'USER':
      return { kind: 'user', user: only(instruction, args) };
    case 'ENV': {
      const properties = (instruction as Env).getProperties();
      if (properties.length !== 1) throw unsupported(instruction, 'ENV with other than one variable');
      const property = properties[0] as NonNullable<(typeof properties)[0]>;
      return { kind: 'env', name: property.getName(), value: property.getUnescapedValue() ?? '' };
    }
    case 'COPY': {
      const copy = instruction as Copy;
      const flags = copy.getFlags();
      if (flags.some((f) => f.getName() !== 'from') || copy.getHeredocs().length > 0) throw unsupported(instruction, 'COPY flags other than --from, or heredocs');
      const paths = copy.getJSONStrings().length > 0 ? copy.getJSONStrings().map((s) => s.getJSONValue()) : args;
      if (paths.length < 2 || paths.some((p) => /[*?[]/.test(p))) throw unsupported(instruction, 'COPY with wildcards or without a destination');
      return { kind: 'copy', from: copy.getFromFlag()?.getValue() ?? null, sources: paths.slice(0, -1), dest: paths.at(-1) as string, line };
    }
    case 'RUN': {
      const run = instruction as Run;
      if (run.getFlags().length > 0 || run.getHeredocs().length > 0 || run.getJSONStrings().length > 0) throw unsupported(instruction, 'RUN flags, heredocs or exec form');
      return { kind: 'run', commands: splitAndList(instruction, args), line };
    }
    case 'CMD':
      return { kind: 'cmd', argv: execForm(instruction as JSONInstruction) };
    case 'HEALTHCHECK':
      return { kind: 'healthcheck', argv: healthcheckArgv(instruction as Healthcheck, text, escape) };
    default:
      throw unsupported(instruction, keyword);
  }
}

/** `a && b && c` as argument lists; any other shell syntax would need a shell this stand-in does not emulate. */
function splitAndList(instruction: Instruction, args: readonly string[]): string[][] {
  const commands: string[][] = [[]];
  for (const arg of args) {
    if (arg === '&&') commands.push([]);
    else (commands.at(-1) as string[]).push(arg);
  }
  if (commands.some((c) => c.length === 0)) throw unsupported(instruction, 'an empty command');
  return commands;
}

function execForm(instruction: JSONInstruction): string[] {
  const argv = instruction.getJSONStrings().map((s) => s.getJSONValue());
  if (argv.length === 0) throw unsupported(instruction, 'shell form (write it in exec form)');
  return argv;
}

/**
 * dockerfile-ast splits HEALTHCHECK's command on blanks, so the exec-form JSON after `CMD` is taken
 * from the text the parser locates, continuation lines joined as Docker joins them.
 */
function healthcheckArgv(instruction: Healthcheck, text: string, escape: string): string[] {
  const sub = instruction.getSubcommand();
  if (sub?.getValue().toUpperCase() !== 'CMD') throw unsupported(instruction, 'HEALTHCHECK other than CMD');
  const end = instruction.getRange().end;
  const lines = text.split('\n');
  const start = sub.getRange().end;
  const raw = start.line === end.line
    ? (lines[start.line] ?? '').slice(start.character, end.character)
    : [(lines[start.line] ?? '').slice(start.character), ...lines.slice(start.line + 1, end.line), (lines[end.line] ?? '').slice(0, end.character)].join('\n');
  const joined = raw.split(`${escape}\n`).join('').trim();
  let argv: unknown;
  try {
    argv = JSON.parse(joined);
  } catch {
    throw unsupported(instruction, 'HEALTHCHECK in shell form (write it in exec form)');
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) throw unsupported(instruction, 'HEALTHCHECK CMD that is not a list of strings');
  return argv as string[];
}

function only(instruction: Instruction, args: readonly string[]): string {
  if (args.length !== 1) throw unsupported(instruction, `${instruction.getKeyword()} with ${args.length} arguments`);
  return args[0] as string;
}

function unsupported(instruction: Instruction, what: string): UnsupportedInstruction {
  return new UnsupportedInstruction(`Dockerfile line ${instruction.getRange().start.line + 1}: ${what} is not reproduced by test/support/image; teach it before relying on it`);
}

/**
 * The Dockerfile text without the instructions `drop` picks, given each instruction as one line
 * (keyword and arguments, single-spaced): for showing that a missing line is noticed.
 */
export function withoutInstructions(text: string, drop: (instruction: string) => boolean): string {
  const lines = text.split('\n');
  const removed = new Set<number>();
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const flags = instruction instanceof ModifiableInstruction ? instruction.getFlags().map((f) => f.toString()) : [];
    if (!drop([instruction.getKeyword(), ...flags, ...instruction.getArguments().map((a) => a.getValue())].join(' '))) continue;
    const { start, end } = instruction.getRange();
    for (let line = start.line; line <= end.line; line++) removed.add(line);
  }
  if (removed.size === 0) throw new Error('no instruction matched');
  return lines.filter((_, i) => !removed.has(i)).join('\n');
}
