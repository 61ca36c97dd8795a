"""Creates a process work pool and a deployment of flows.py:main through whatever PREFECT_API_URL says."""
import asyncio
import os
import sys

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate


async def main(directory: str) -> None:
    async with get_client() as client:
        await client.create_work_pool(WorkPoolCreate(name="pool-a", type="process"), overwrite=True)
        flow_id = await client.create_flow_from_name("proxy-e2e")
        deployment_id = await client.create_deployment(
            flow_id=flow_id, name="nightly", work_pool_name="pool-a", entrypoint="flows.py:main", path=directory,
        )
        print("DEPLOYMENT_ID", deployment_id)


if __name__ == "__main__":
    asyncio.run(main(os.path.abspath(sys.argv[1])))
