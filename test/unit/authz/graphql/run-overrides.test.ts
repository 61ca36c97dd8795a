import { analyzeDocument, valuePermissions } from '../../../../src/authz/graphql';
import { formatPermission } from '../../../../src/authz';

const needs = (query: string, variables?: unknown): string[] => {
  const info = analyzeDocument(query, 10_000);
  return info.operations.flatMap((op) => valuePermissions(info, op, variables)).map(formatPermission);
};

const RUN_CONFIG = ['mutation/create_flow_run.run_config'];

describe('permissions a create_flow_run needs for what it sends', () => {
  it.each([
    // [what, query, variables, needs]
    ['no run_config', 'mutation { create_flow_run(input: {flow_id: "f"}) { id } }', undefined, []],
    ['run_config null', 'mutation { create_flow_run(input: {flow_id: "f", run_config: null}) { id } }', undefined, []],
    ['run_config literal', 'mutation { create_flow_run(input: {flow_id: "f", run_config: {type: "KubernetesRun"}}) { id } }', undefined, RUN_CONFIG],
    ['input variable without run_config (as the Prefect 1 client sends it)', 'mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }', '{"input": {"flow_id": "f"}}', []],
    ['input variable with run_config, variables as a JSON string', 'mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }', '{"input": {"flow_id": "f", "run_config": {"type": "LocalRun", "env": {"A": "1"}}}}', RUN_CONFIG],
    ['input variable with run_config, variables as an object', 'mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }', { input: { run_config: { type: 'DockerRun' } } }, RUN_CONFIG],
    ['run_config from its own variable', 'mutation($rc: JSON) { create_flow_run(input: {flow_id: "f", run_config: $rc}) { id } }', { rc: { type: 'DockerRun' } }, RUN_CONFIG],
    ['run_config variable sent as null', 'mutation($rc: JSON) { create_flow_run(input: {flow_id: "f", run_config: $rc}) { id } }', { rc: null }, []],
    ['run_config variable with a default in the document', 'mutation($rc: JSON = {type: "DockerRun"}) { create_flow_run(input: {flow_id: "f", run_config: $rc}) { id } }', {}, RUN_CONFIG],
    ['input variable with a default in the document', 'mutation($i: create_flow_run_input = {flow_id: "f", run_config: {}}) { create_flow_run(input: $i) { id } }', undefined, RUN_CONFIG],
    ['variables the proxy cannot read', 'mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }', '[1, 2]', RUN_CONFIG],
    ['an alias', 'mutation { run: create_flow_run(input: {flow_id: "f", run_config: {}}) { id } }', undefined, RUN_CONFIG],
    ['through a fragment', 'mutation { ...go } fragment go on Mutation { create_flow_run(input: {run_config: {}}) { id } }', undefined, RUN_CONFIG],
    ['the second of two', 'mutation { a: create_flow_run(input: {flow_id: "f"}) { id } b: create_flow_run(input: {flow_id: "f", run_config: {}}) { id } }', undefined, RUN_CONFIG],
    ['another mutation', 'mutation { set_flow_run_states(input: {states: []}) { states { id } } }', undefined, []],
    ['a query', 'query { flow_run { run_config } }', undefined, []],
  ])('%s', (_what, query, variables, expected) => {
    expect(needs(query, variables)).toEqual(expected);
  });
});
