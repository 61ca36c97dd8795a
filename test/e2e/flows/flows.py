import sys
from prefect import flow, task, get_run_logger

@task
def add(a, b):
    get_run_logger().info("adding %s and %s", a, b)
    return a + b

@flow(name="proxy-e2e")
def main(n: int = 3):
    total = 0
    for i in range(n):
        total = add(total, i)
    get_run_logger().info("total is %s", total)
    return total

if __name__ == "__main__":
    state = main(return_state=True)
    print("FLOW_RUN_ID", state.state_details.flow_run_id)
    print("STATE", state.type.value)
    sys.exit(0 if state.is_completed() else 1)
